"""The overview's rollups keyed by label too: a trace tag (`label_key` as the search grammar
spells the field, `tag.team`, and its value; '' for the rows of every trace), so
`tags.team = 'search'` over a month reads rollups. A tag with too many values is left out of
the hours built with it (`trace_rollup_cuts`); the overview reads those hours raw for it.
Triggers drop the hours of a trace whose tags change. The rollups built before are dropped
(they hold no label rows): the next overview builds them again.

Revision ID: 0031
Revises: 0030
Create Date: 2026-12-06 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0031"
down_revision = "0030"
branch_labels = None
depends_on = None

HOUR_MS = 3_600_000
_TABLES = ("trace_rollups", "trace_rollup_scores", "trace_rollup_tools")
# tags that name where a trace's data lives: one value a trace, never a label
_UNLABELED = "('mlflow.artifactLocation', 'mlflow.trace.spansLocation')"
_ROWS = {"INSERT": ("NEW",), "DELETE": ("OLD",), "UPDATE": ("OLD", "NEW")}
# A trace's own hour and the hours of its TOOL spans: all its rollup rows (as 0025's)
_TRACE_HOURS = (
    "DELETE FROM trace_rollup_hours WHERE (experiment_id, hour_ms) IN "
    "(SELECT t.experiment_id, t.request_time / {h} * {h} FROM traces AS t "
    "WHERE t.trace_id = {r}.trace_id UNION ALL "
    "SELECT s.experiment_id, s.start_time_ns / 1000000 / {h} * {h} FROM spans AS s "
    "WHERE s.trace_id = {r}.trace_id AND s.span_type = 'TOOL')"
)


def _labels_of(event: str) -> str:
    return " OR ".join(f"{r}.key NOT IN {_UNLABELED}" for r in _ROWS[event])


def _create_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        steps = [
            f"IF TG_OP = '{event}' AND ({_labels_of(event)}) THEN "
            + " ".join(f"PERFORM heron_rollup_trace({r}.trace_id);" for r in rows)
            + " END IF;"
            for event, rows in _ROWS.items()
        ]
        op.execute(
            "CREATE FUNCTION heron_rollup_trace_tags() RETURNS trigger AS $$ BEGIN "
            + " ".join(steps)
            + " RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER trg_rollup_trace_tags AFTER INSERT OR UPDATE OR DELETE ON "
            "trace_tags FOR EACH ROW EXECUTE FUNCTION heron_rollup_trace_tags()"
        )
        return
    for event, rows in _ROWS.items():
        body = "; ".join(_TRACE_HOURS.format(h=HOUR_MS, r=r) for r in rows)
        op.execute(
            f"CREATE TRIGGER trg_rollup_labels_{event.lower()} AFTER {event} ON trace_tags "
            f"WHEN {_labels_of(event)} BEGIN {body}; END"
        )


def _drop_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER trg_rollup_trace_tags ON trace_tags")
        op.execute("DROP FUNCTION heron_rollup_trace_tags()")
        return
    for event in _ROWS:
        op.execute(f"DROP TRIGGER trg_rollup_labels_{event.lower()}")


def _forget_rollups() -> None:
    for name in ("trace_rollup_hours", *_TABLES):
        op.execute(sa.delete(sa.table(name)))


def upgrade() -> None:
    _forget_rollups()
    for name in _TABLES:
        with op.batch_alter_table(name) as batch:
            batch.add_column(sa.Column("label_key", sa.Text(), nullable=False, server_default=""))
            batch.add_column(sa.Column("label_value", sa.Text(), nullable=False, server_default=""))
        op.create_index(
            f"ix_{name}_read", name, ["experiment_id", "label_key", "label_value", "span_type",
                                      "hour_ms"]
        )  # fmt: skip
    op.create_table(
        "trace_rollup_cuts",
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("hour_ms", sa.BigInteger(), nullable=False),
        sa.Column("label_key", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint(
            "experiment_id", "hour_ms", "label_key", name="pk_trace_rollup_cuts"
        ),
    )
    _create_triggers()


def downgrade() -> None:
    _drop_triggers()
    op.drop_table("trace_rollup_cuts")
    _forget_rollups()
    for name in _TABLES:
        op.drop_index(f"ix_{name}_read", table_name=name)
        with op.batch_alter_table(name) as batch:
            batch.drop_column("label_value")
            batch.drop_column("label_key")
