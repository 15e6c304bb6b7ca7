"""Sorting and filtering runs by a metric from one index: latest_metrics gains the run's
experiment_id (filled in from runs) and an index on (experiment_id, key, is_nan, value, run_uuid).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_INDEX = "ix_latest_metrics_experiment_key_value"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a NOT NULL column without a default: build the table anew (it is
        # WITHOUT ROWID, clustered by its key) and copy every row with its run's experiment.
        op.create_table(
            "latest_metrics_0004",
            sa.Column("run_uuid", sa.String(length=32), nullable=False),
            sa.Column("key", sa.String(length=250), nullable=False),
            sa.Column("step", sa.BigInteger(), nullable=False),
            sa.Column("timestamp", sa.BigInteger(), nullable=False),
            sa.Column("value", sa.Float(precision=53), nullable=False),
            sa.Column("is_nan", sa.Boolean(), nullable=False),
            sa.Column("experiment_id", sa.Integer(), nullable=False),
            sa.ForeignKeyConstraint(["run_uuid"], ["runs.run_uuid"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("run_uuid", "key", name="pk_latest_metrics"),
            sqlite_with_rowid=False,
        )
        op.execute(
            "INSERT INTO latest_metrics_0004 "
            "(run_uuid, key, step, timestamp, value, is_nan, experiment_id) "
            "SELECT m.run_uuid, m.key, m.step, m.timestamp, m.value, m.is_nan, r.experiment_id "
            "FROM latest_metrics AS m JOIN runs AS r ON r.run_uuid = m.run_uuid"
        )
        op.drop_table("latest_metrics")
        op.rename_table("latest_metrics_0004", "latest_metrics")
    else:
        op.add_column("latest_metrics", sa.Column("experiment_id", sa.Integer(), nullable=True))
        op.execute(
            "UPDATE latest_metrics SET experiment_id = runs.experiment_id FROM runs "
            "WHERE runs.run_uuid = latest_metrics.run_uuid"
        )
        op.alter_column("latest_metrics", "experiment_id", nullable=False)
    op.create_index(
        _INDEX, "latest_metrics", ["experiment_id", "key", "is_nan", "value", "run_uuid"]
    )


def downgrade() -> None:
    op.drop_index(_INDEX, table_name="latest_metrics")
    op.drop_column("latest_metrics", "experiment_id")
