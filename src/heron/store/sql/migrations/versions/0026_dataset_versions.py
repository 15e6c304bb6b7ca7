"""Versions of evaluation datasets: each change of a dataset's records makes a version (its
digest, who, when, how many records), and every state a record had is kept with the versions
it belongs to, so the records of any version can be read again. A dataset with records gets
its present records as version 1 here.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_RECORD = (
    "inputs, outputs, expectations, tags, source, created_time, last_update_time, "
    "created_by, last_updated_by"
)


def upgrade() -> None:
    op.add_column(
        "evaluation_datasets",
        sa.Column("version", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_table(
        "evaluation_dataset_versions",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(length=36), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("num_records", sa.BigInteger(), nullable=False),
        sa.Column("inserted_count", sa.BigInteger(), nullable=False),
        sa.Column("updated_count", sa.BigInteger(), nullable=False),
        sa.Column("deleted_count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["evaluation_datasets.dataset_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dataset_id", "version"),
    )
    op.create_table(
        "evaluation_dataset_record_versions",
        sa.Column("dataset_record_id", sa.String(length=36), nullable=False),
        sa.Column("first_version", sa.Integer(), nullable=False),
        sa.Column("last_version", sa.Integer(), nullable=True),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=True),
        sa.Column("expectations", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("last_updated_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["evaluation_datasets.dataset_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dataset_record_id", "first_version"),
    )
    op.create_index(
        "ix_evaluation_dataset_record_versions_page",
        "evaluation_dataset_record_versions",
        ["dataset_id", "created_time", "dataset_record_id"],
    )
    _first_versions()


def _first_versions() -> None:
    """The records a dataset has now become its version 1."""
    op.execute(
        "INSERT INTO evaluation_dataset_versions (dataset_id, version, digest, created_time, "
        "created_by, num_records, inserted_count, updated_count, deleted_count) "
        "SELECT d.dataset_id, 1, d.digest, d.last_update_time, d.last_updated_by, "
        "COUNT(*), COUNT(*), 0, 0 FROM evaluation_datasets AS d "
        "JOIN evaluation_dataset_records AS r ON r.dataset_id = d.dataset_id "
        "GROUP BY d.dataset_id, d.digest, d.last_update_time, d.last_updated_by"
    )
    op.execute(
        "INSERT INTO evaluation_dataset_record_versions (dataset_record_id, first_version, "  # noqa: S608
        f"last_version, dataset_id, {_RECORD}) SELECT dataset_record_id, 1, NULL, dataset_id, "
        f"{_RECORD} FROM evaluation_dataset_records"
    )
    op.execute(
        "UPDATE evaluation_datasets SET version = 1 WHERE dataset_id IN "
        "(SELECT dataset_id FROM evaluation_dataset_versions)"
    )


def downgrade() -> None:
    op.drop_index(
        "ix_evaluation_dataset_record_versions_page",
        table_name="evaluation_dataset_record_versions",
    )
    op.drop_table("evaluation_dataset_record_versions")
    op.drop_table("evaluation_dataset_versions")
    op.drop_column("evaluation_datasets", "version")
