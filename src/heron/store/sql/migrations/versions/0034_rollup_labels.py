"""The overview's rollups keyed by label too: a trace tag or its user (`label_key` as the
search grammar spells the field, `tag.team` or `metadata.mlflow.trace.user`, and its value;
'' for the rows of every trace), so `tags.team = 'search'` over a month reads rollups. A label
with too many values in an hour is left out of that hour (`trace_rollup_cuts`); the overview
reads such hours raw. Triggers drop the hours of a trace whose labels change. The rollups
built before are dropped (they hold no label rows): the next overview builds them again.

Revision ID: 0034
Revises: 0029
Create Date: 2026-12-06 17:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0034"
down_revision = "0029"
branch_labels = None
depends_on = None

HOUR_MS = 3_600_000
_TABLES = ("trace_rollups", "trace_rollup_scores", "trace_rollup_tools")
# tags that name where a trace's data lives: one value a trace, never a label
_UNLABELED = "('mlflow.artifactLocation', 'mlflow.trace.spansLocation')"
# metadata whose change moves a trace's rollup rows: its environment (0025) and its user
_KEYED_METADATA = "('mlflow.source.type', 'mlflow.trace.user')"
_ROWS = {"INSERT": ("NEW",), "DELETE": ("OLD",), "UPDATE": ("OLD", "NEW")}
# A trace's own hour and the hours of its TOOL spans: all its rollup rows (as 0025's)
_TRACE_HOURS = (
    "DELETE FROM trace_rollup_hours WHERE (experiment_id, hour_ms) IN "
    "(SELECT t.experiment_id, t.request_time / {h} * {h} FROM traces AS t "
    "WHERE t.trace_id = {r}.trace_id UNION ALL "
    "SELECT s.experiment_id, s.start_time_ns / 1000000 / {h} * {h} FROM spans AS s "
    "WHERE s.trace_id = {r}.trace_id AND s.span_type = 'TOOL')"
)
_WHEN = {"trace_tags": "{r}.key NOT IN " + _UNLABELED, "trace_metadata": "{r}.key IN {keys}"}


def _condition(table: str, event: str, keys: str) -> str:
    return " OR ".join(_WHEN[table].format(r=r, keys=keys) for r in _ROWS[event])


def _sqlite_triggers(keys: str, tables: dict[str, str]) -> list[str]:
    made = []
    for table, prefix in tables.items():
        for event, rows in _ROWS.items():
            body = "; ".join(_TRACE_HOURS.format(h=HOUR_MS, r=r) for r in rows)
            made.append(
                f"CREATE TRIGGER trg_rollup_{prefix}_{table}_{event.lower()} AFTER {event} ON "
                f"{table} WHEN {_condition(table, event, keys)} BEGIN {body}; END"
            )
    return made


def _postgresql_function(table: str, keys: str) -> str:
    steps = [
        f"IF TG_OP = '{event}' AND ({_condition(table, event, keys)}) THEN "
        + " ".join(f"PERFORM heron_rollup_trace({r}.trace_id);" for r in rows)
        + " END IF;"
        for event, rows in _ROWS.items()
    ]
    return (
        f"CREATE OR REPLACE FUNCTION heron_rollup_{table}() RETURNS trigger AS $$ BEGIN "
        + " ".join(steps)
        + " RETURN NULL; END $$ LANGUAGE plpgsql"
    )


def _triggers(keys: str, labels: bool) -> None:
    """0025's metadata triggers for `keys`; with `labels`, the trace tags' ones too."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_postgresql_function("trace_metadata", keys))
        if labels:
            op.execute(_postgresql_function("trace_tags", keys))
            op.execute(
                "CREATE TRIGGER trg_rollup_trace_tags AFTER INSERT OR UPDATE OR DELETE ON "
                "trace_tags FOR EACH ROW EXECUTE FUNCTION heron_rollup_trace_tags()"
            )
        else:
            op.execute("DROP TRIGGER trg_rollup_trace_tags ON trace_tags")
            op.execute("DROP FUNCTION heron_rollup_trace_tags()")
        return
    for event in _ROWS:
        op.execute(f"DROP TRIGGER IF EXISTS trg_rollup_keys_trace_metadata_{event.lower()}")
        op.execute(f"DROP TRIGGER IF EXISTS trg_rollup_labels_trace_tags_{event.lower()}")
    tables = {"trace_metadata": "keys"} | ({"trace_tags": "labels"} if labels else {})
    for statement in _sqlite_triggers(keys, tables):
        op.execute(statement)


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
    _triggers(_KEYED_METADATA, labels=True)


def downgrade() -> None:
    _triggers("('mlflow.source.type')", labels=False)
    op.drop_table("trace_rollup_cuts")
    _forget_rollups()
    for name in _TABLES:
        op.drop_index(f"ix_{name}_read", table_name=name)
        with op.batch_alter_table(name) as batch:
            batch.drop_column("label_value")
            batch.drop_column("label_key")
