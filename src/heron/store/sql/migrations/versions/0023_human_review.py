"""Human review: label schemas (the questions reviewers answer), review queues with their
reviewers and schemas, and the traces queued in them with their status.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 08:10:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _experiment() -> list[SchemaItem]:
    return [
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], ondelete="CASCADE"
        ),
    ]


def _queue() -> list[SchemaItem]:
    return [
        sa.Column("queue_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["queue_id"], ["review_queues.queue_id"], ondelete="CASCADE"),
    ]


def upgrade() -> None:
    op.create_table(
        "label_schemas",
        sa.Column("schema_id", sa.String(length=36), nullable=False),
        *_experiment(),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("input", sa.Text(), nullable=False),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("enable_comment", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=250), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_at", sa.BigInteger(), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("schema_id"),
        sa.UniqueConstraint("experiment_id", "name", name="uq_label_schemas_name"),
    )
    op.create_table(
        "review_queues",
        sa.Column("queue_id", sa.String(length=36), nullable=False),
        *_experiment(),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("queue_type", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=250), nullable=True),
        sa.Column("creation_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("queue_id"),
        sa.UniqueConstraint("experiment_id", "name", name="uq_review_queues_name"),
    )
    op.create_table(
        "review_queue_users",
        *_queue(),
        sa.Column("user_name", sa.String(length=250), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.UniqueConstraint("queue_id", "user_name", name="uq_review_queue_users"),
    )
    op.create_index("ix_review_queue_users_user", "review_queue_users", ["user_name"])
    op.create_table(
        "review_queue_schemas",
        *_queue(),
        sa.Column("schema_id", sa.String(length=36), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["schema_id"], ["label_schemas.schema_id"], ondelete="CASCADE"),
        sa.UniqueConstraint("queue_id", "schema_id", name="uq_review_queue_schemas"),
    )
    op.create_table(
        "review_queue_items",
        *_queue(),
        sa.Column("item_id", sa.String(length=50), nullable=False),
        sa.Column("item_type", sa.String(length=16), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("completed_by", sa.String(length=250), nullable=True),
        sa.Column("completed_time_ms", sa.BigInteger(), nullable=True),
        sa.Column("creation_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time_ms", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("queue_id", "item_id", name="uq_review_queue_items"),
    )
    op.create_index("ix_review_queue_items_item", "review_queue_items", ["item_id"])


def downgrade() -> None:
    op.drop_table("review_queue_items")
    op.drop_table("review_queue_schemas")
    op.drop_table("review_queue_users")
    op.drop_table("review_queues")
    op.drop_table("label_schemas")
