"""Logged models (MLflow 3) and the model registry (models, versions, tags, aliases, events).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:08:38.178701
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    catalogs = op.create_table(
        "registry_catalogs",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=256), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    schemas = op.create_table(
        "registry_schemas",
        sa.Column("catalog_name", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=256), nullable=True),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["catalog_name"], ["registry_catalogs.name"], ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("catalog_name", "name", name="pk_registry_schemas"),
    )
    op.create_table(
        "webhooks",
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("webhook_id"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.String(length=36), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.webhook_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("delivery_id", "attempt", name="pk_webhook_deliveries"),
    )
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_webhook_deliveries_webhook", ["webhook_id", "timestamp"], unique=False
        )
    # The default namespace plain model names live in.
    op.bulk_insert(
        catalogs,
        [
            {
                "name": "main",
                "comment": "Default catalog",
                "creation_timestamp": 0,
                "last_updated_timestamp": 0,
            }
        ],
    )
    op.bulk_insert(
        schemas,
        [
            {
                "catalog_name": "main",
                "name": "default",
                "comment": "Default schema",
                "creation_timestamp": 0,
                "last_updated_timestamp": 0,
            }
        ],
    )
    op.create_table(
        "registered_models",
        sa.Column("registered_model_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=256), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("last_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("registered_model_id"),
        sa.UniqueConstraint("name", name="uq_registered_models_name"),
    )
    with op.batch_alter_table("registered_models", schema=None) as batch_op:
        batch_op.create_index(
            "ix_registered_models_last_updated", ["last_updated_timestamp"], unique=False
        )
    op.create_table(
        "logged_models",
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("artifact_location", sa.Text(), nullable=False),
        sa.Column("creation_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("lifecycle_stage", sa.String(length=32), nullable=False),
        sa.Column("model_type", sa.String(length=500), nullable=True),
        sa.Column("source_run_id", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("model_id"),
    )
    with op.batch_alter_table("logged_models", schema=None) as batch_op:
        batch_op.create_index(
            "ix_logged_models_experiment_created",
            ["experiment_id", "creation_timestamp_ms"],
            unique=False,
        )
        batch_op.create_index("ix_logged_models_source_run", ["source_run_id"], unique=False)

    op.create_table(
        "model_version_events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("registered_model_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=256), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["registered_model_id"], ["registered_models.registered_model_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("model_version_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_model_version_events_version",
            ["registered_model_id", "version", "event_id"],
            unique=False,
        )

    op.create_table(
        "model_versions",
        sa.Column("registered_model_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.String(length=256), nullable=True),
        sa.Column("current_stage", sa.String(length=20), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("storage_location", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=True),
        sa.Column("run_link", sa.Text(), nullable=True),
        sa.Column("model_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["registered_model_id"], ["registered_models.registered_model_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("registered_model_id", "version", name="pk_model_versions"),
    )
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.create_index("ix_model_versions_model_id", ["model_id"], unique=False)
        batch_op.create_index("ix_model_versions_run_id", ["run_id"], unique=False)
        batch_op.create_index(
            "ix_model_versions_last_updated", ["last_updated_timestamp"], unique=False
        )

    op.create_table(
        "registered_model_tags",
        sa.Column("registered_model_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["registered_model_id"], ["registered_models.registered_model_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("registered_model_id", "key", name="pk_registered_model_tags"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "logged_model_metrics",
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("dataset_name", sa.String(length=500), nullable=False),
        sa.Column("dataset_digest", sa.String(length=36), nullable=False),
        sa.Column("run_uuid", sa.String(length=32), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Float(precision=53), nullable=False),
        sa.Column("is_nan", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["logged_models.model_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint(
            "model_id",
            "key",
            "dataset_name",
            "dataset_digest",
            "run_uuid",
            "step",
            "timestamp",
            name="pk_logged_model_metrics",
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "logged_model_params",
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["logged_models.model_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model_id", "key", name="pk_logged_model_params"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "logged_model_tags",
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["logged_models.model_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("model_id", "key", name="pk_logged_model_tags"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "model_version_tags",
        sa.Column("registered_model_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["registered_model_id", "version"],
            ["model_versions.registered_model_id", "model_versions.version"],
            name="fk_model_version_tags_version",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "registered_model_id", "version", "key", name="pk_model_version_tags"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "registered_model_aliases",
        sa.Column("registered_model_id", sa.Integer(), nullable=False),
        sa.Column("alias", sa.String(length=256), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["registered_model_id", "version"],
            ["model_versions.registered_model_id", "model_versions.version"],
            name="fk_registered_model_aliases_version",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("registered_model_id", "alias", name="pk_registered_model_aliases"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "run_model_inputs",
        sa.Column("run_uuid", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_uuid", "model_id", name="pk_run_model_inputs"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "run_model_outputs",
        sa.Column("run_uuid", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=36), nullable=False),
        sa.Column("step", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_uuid", "model_id", name="pk_run_model_outputs"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("registry_schemas")
    op.drop_table("registry_catalogs")
    op.drop_table("run_model_outputs")
    op.drop_table("run_model_inputs")
    op.drop_table("registered_model_aliases")
    op.drop_table("model_version_tags")
    op.drop_table("logged_model_tags")
    op.drop_table("logged_model_params")
    op.drop_table("logged_model_metrics")
    op.drop_table("registered_model_tags")
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_model_versions_run_id")
        batch_op.drop_index("ix_model_versions_model_id")

    op.drop_table("model_versions")
    with op.batch_alter_table("model_version_events", schema=None) as batch_op:
        batch_op.drop_index("ix_model_version_events_version")

    op.drop_table("model_version_events")
    with op.batch_alter_table("logged_models", schema=None) as batch_op:
        batch_op.drop_index("ix_logged_models_source_run")
        batch_op.drop_index("ix_logged_models_experiment_created")

    op.drop_table("logged_models")
    op.drop_table("registered_models")
