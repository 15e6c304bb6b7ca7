"""PostgreSQL: the trace tags and metadata indexed by key and value, so that the overview puts
the traces passing a tag or metadata filter in its temporary table with one index range per
clause joined to the window's traces, instead of probing each trace's rows
(trace_overview_raw.passing_table). A B-tree row holds at most about 2,700 bytes: values of at
most 200 characters are in the first index with the trace id (read without the table), longer
ones (rare) only by key and trace id in the second. SQLite is left as it is (its filter reads
each trace's rows, which it does well).

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

SHORT = 200  # tables.SHORT_VALUE: the longest value the first index holds, in characters
_TABLES = ("trace_tags", "trace_metadata")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.create_index(
            f"ix_{table}_values",
            table,
            ["key", "value", "trace_id"],
            postgresql_where=sa.text(f"length(value) <= {SHORT}"),
        )
        op.create_index(
            f"ix_{table}_long_values",
            table,
            ["key", "trace_id"],
            postgresql_where=sa.text(f"length(value) > {SHORT}"),
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in _TABLES:
        op.drop_index(f"ix_{table}_long_values", table_name=table)
        op.drop_index(f"ix_{table}_values", table_name=table)
