"""The overview's three covering indexes end with the trace id, so that a filter's traces,
read once into a temporary table, are matched against each index range without a read of the
table's rows (trace_overview_raw.passing_table).

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 14:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

_TOOL = "span_type = 'TOOL'"
_INDEXES = {
    "ix_traces_overview": ("traces", ["experiment_id", "request_time", "state",
                           "execution_duration", "input_tokens", "output_tokens",
                           "total_tokens", "total_cost"]),
    "ix_spans_tools": ("spans", ["experiment_id", "start_time_ns", "name", "status",
                       "end_time_ns", "span_type"]),
    "ix_assessments_scores": ("assessments", ["experiment_id", "trace_time", "kind", "valid",
                              "name", "score", "model_id"]),
}  # fmt: skip


def _recreate(with_trace_id: bool) -> None:
    for name, (table, columns) in _INDEXES.items():
        where = sa.text(_TOOL) if table == "spans" else None
        op.drop_index(name, table_name=table)
        op.create_index(
            name,
            table,
            [*columns, "trace_id"] if with_trace_id else columns,
            sqlite_where=where,
            postgresql_where=where,
        )


def upgrade() -> None:
    _recreate(with_trace_id=True)


def downgrade() -> None:
    _recreate(with_trace_id=False)
