"""Traces keep their user (mlflow.trace.user) as a column with a covering index, as they keep
their session and app version (0015): the GenAI views filtered by one user read one index
range instead of probing the metadata of every trace in the window. Existing rows are filled
in here.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 08:30:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from heron.store.sql.traces_derived import MAX_INDEXED

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("traces", sa.Column("user_id", sa.String(length=MAX_INDEXED), nullable=True))
    op.execute(
        "UPDATE traces SET user_id = (SELECT m.value FROM trace_metadata AS m "  # noqa: S608
        "WHERE m.trace_id = traces.trace_id AND m.key = 'mlflow.trace.user' "
        f"AND length(m.value) <= {MAX_INDEXED})"
    )
    op.create_index(
        "ix_traces_user",
        "traces",
        ["experiment_id", "user_id", "request_time", "state", "execution_duration",
         "input_tokens", "output_tokens", "total_tokens", "total_cost"],
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_traces_user", table_name="traces")
    op.drop_column("traces", "user_id")
