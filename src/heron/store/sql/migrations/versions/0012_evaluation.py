"""GenAI evaluation: evaluation datasets (with their experiments and records, one record per
distinct inputs) and the judge cache.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 05:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "evaluation_datasets",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("dataset_schema", sa.Text(), nullable=True),
        sa.Column("profile", sa.Text(), nullable=True),
        sa.Column("digest", sa.String(length=36), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=True),
        sa.Column("last_updated_by", sa.String(length=256), nullable=True),
        sa.PrimaryKeyConstraint("dataset_id"),
    )
    op.create_index("ix_evaluation_datasets_name", "evaluation_datasets", ["name"])
    op.create_table(
        "evaluation_dataset_experiments",
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["evaluation_datasets.dataset_id"], ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dataset_id", "experiment_id"),
    )
    op.create_index(
        "ix_evaluation_dataset_experiments_experiment",
        "evaluation_dataset_experiments",
        ["experiment_id"],
    )
    op.create_table(
        "evaluation_dataset_records",
        sa.Column("dataset_record_id", sa.String(length=36), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("input_hash", sa.String(length=64), nullable=False),
        sa.Column("inputs", sa.Text(), nullable=False),
        sa.Column("outputs", sa.Text(), nullable=True),
        sa.Column("expectations", sa.Text(), nullable=True),
        sa.Column("tags", sa.Text(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=True),
        sa.Column("last_updated_by", sa.String(length=256), nullable=True),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["evaluation_datasets.dataset_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("dataset_record_id"),
        sa.UniqueConstraint(
            "dataset_id", "input_hash", name="uq_evaluation_dataset_records_inputs"
        ),
    )
    op.create_index(
        "ix_evaluation_dataset_records_page",
        "evaluation_dataset_records",
        ["dataset_id", "created_time", "dataset_record_id"],
    )
    op.create_table(
        "judge_cache",
        sa.Column("cache_key", sa.String(length=64), nullable=False),
        sa.Column("scorer_digest", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=500), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("cache_key"),
    )


def downgrade() -> None:
    op.drop_table("judge_cache")
    op.drop_table("evaluation_dataset_records")
    op.drop_table("evaluation_dataset_experiments")
    op.drop_table("evaluation_datasets")
