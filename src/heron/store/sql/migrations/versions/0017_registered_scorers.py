"""Registered scorers: each version of a scorer saved in an experiment (its serialized form,
MLflow's), and the online scoring configuration of a scorer (sample rate and filter).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 05:55:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registered_scorers",
        sa.Column("scorer_version_id", sa.String(length=36), nullable=False),
        sa.Column("scorer_id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("serialized_scorer", sa.Text(), nullable=False),
        sa.Column("creation_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("scorer_version_id"),
        sa.UniqueConstraint(
            "experiment_id", "name", "version", name="uq_registered_scorers_version"
        ),
    )
    op.create_index("ix_registered_scorers_scorer", "registered_scorers", ["scorer_id"])
    op.create_table(
        "online_scoring_configs",
        sa.Column("config_id", sa.String(length=36), nullable=False),
        sa.Column("scorer_id", sa.String(length=36), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("sample_rate", sa.Float(), nullable=False),
        sa.Column("filter_string", sa.Text(), nullable=True),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("config_id"),
        sa.UniqueConstraint("scorer_id"),
    )


def downgrade() -> None:
    op.drop_table("online_scoring_configs")
    op.drop_table("registered_scorers")
