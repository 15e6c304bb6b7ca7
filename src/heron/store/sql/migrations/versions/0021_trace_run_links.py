"""Traces linked to runs after the fact (MLflow's POST /traces/link-to-run): one row a link,
found by run for `run_id = '...'` searches.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trace_run_links",
        sa.Column("trace_id", sa.String(length=50), nullable=False),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("linked_time", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["trace_id"], ["traces.trace_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("trace_id", "run_id", name="pk_trace_run_links"),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_trace_run_links_run", "trace_run_links", ["run_id", "trace_id"])


def downgrade() -> None:
    op.drop_index("ix_trace_run_links_run", table_name="trace_run_links")
    op.drop_table("trace_run_links")
