"""The GenAI overview's hourly rollups: per experiment, hour, app version, environment and
span type, the traces' counts, tokens, cost and durations, the feedback by name and the tool
calls by name, with the hours they are true for (tables_rollups.py). Triggers drop an hour's
mark whenever a trace, a TOOL span or an assessment in it is written or deleted, and a
trace's hours when its environment or the span types it holds change (by any path: ingest,
assessments, trace deletion, retention, experiment deletion's cascades), in the writer's
transaction; the
overview builds marked hours again when it reads them. No rows are filled in here: the first
overview of each hour builds it.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 11:30:00.000000
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

HOUR_MS = 3_600_000
LOCK = 728_001  # the advisory lock's first key (PostgreSQL): builders and writers of rollups
ENVIRONMENT = "mlflow.source.type"  # the metadata the overview's environment filter reads

_STALE = "DELETE FROM trace_rollup_hours WHERE experiment_id = {e} AND hour_ms = ({t}) / {h} * {h}"
# A trace's own hour and the hours of its TOOL spans: all its rollup rows (SQLite).
_TRACE_HOURS = (
    "DELETE FROM trace_rollup_hours WHERE (experiment_id, hour_ms) IN "
    "(SELECT t.experiment_id, t.request_time / {h} * {h} FROM traces AS t "
    "WHERE t.trace_id = {r}.trace_id UNION ALL "
    "SELECT s.experiment_id, s.start_time_ns / 1000000 / {h} * {h} FROM spans AS s "
    "WHERE s.trace_id = {r}.trace_id AND s.span_type = 'TOOL')"
)
# table -> (its experiment column, its time in ms, the rows that count)
_SOURCES = {
    "traces": ("experiment_id", "{r}.request_time", None),
    "spans": ("experiment_id", "{r}.start_time_ns / 1000000", "{r}.span_type = 'TOOL'"),
    "assessments": ("experiment_id", "{r}.trace_time", None),
}
# When a row changes the keys of its trace's rollup rows (its environment, the span types it
# holds), by event: the span that is the first of its type in its trace (the lowest id: a
# statement's rows are all visible to PostgreSQL's row triggers), the last one deleted.
_FIRST = (
    "NOT EXISTS (SELECT 1 FROM spans AS o WHERE o.trace_id = {r}.trace_id "
    "AND o.span_type = {r}.span_type AND o.span_id < {r}.span_id)"
)
_LAST = (
    "NOT EXISTS (SELECT 1 FROM spans AS o WHERE o.trace_id = {r}.trace_id "
    "AND o.span_type = {r}.span_type)"
)
_MOVED = "(OLD.span_type <> NEW.span_type OR OLD.trace_id <> NEW.trace_id)"
_KEYS = {
    "spans": {"INSERT": _FIRST.format(r="NEW"), "DELETE": _LAST.format(r="OLD"),
              "UPDATE": _MOVED},
    "trace_metadata": {e: " OR ".join(f"{r}.key = '{ENVIRONMENT}'" for r in rows)
                       for e, rows in (("INSERT", ["NEW"]), ("DELETE", ["OLD"]),
                                       ("UPDATE", ["OLD", "NEW"]))},
}  # fmt: skip
_ROWS = {"INSERT": ("NEW",), "DELETE": ("OLD",), "UPDATE": ("OLD", "NEW")}


def _sqlite_triggers() -> list[str]:
    made = []
    for table, (exp, at, when) in _SOURCES.items():
        for event, rows in _ROWS.items():
            body = [_STALE.format(e=f"{r}.{exp}", t=at.format(r=r), h=HOUR_MS) for r in rows]
            if table == "traces" and event == "UPDATE":  # a new app version moves its tools
                body.append(_TRACE_HOURS.format(h=HOUR_MS, r="NEW"))
            condition = " OR ".join(when.format(r=r) for r in rows) if when else None
            made.append(_sqlite_trigger(f"{table}_{event.lower()}", table, event, condition, body))
    for table, events in _KEYS.items():
        for event, condition in events.items():
            body = [_TRACE_HOURS.format(h=HOUR_MS, r=r) for r in _ROWS[event]]
            made.append(_sqlite_trigger(f"keys_{table}_{event.lower()}", table, event,
                                        condition, body))  # fmt: skip
    return made


def _sqlite_trigger(name: str, table: str, event: str, when: str | None, body: list[str]) -> str:
    return (
        f"CREATE TRIGGER trg_rollup_{name} AFTER {event} ON {table} "
        + (f"WHEN {when} " if when else "")
        + "BEGIN "
        + "; ".join(body)
        + "; END"
    )


def _postgresql_triggers() -> list[str]:
    made = [
        "CREATE FUNCTION heron_rollup_stale(exp integer, at_ms bigint) RETURNS void AS $$ "
        "BEGIN IF exp IS NULL OR at_ms IS NULL THEN RETURN; END IF; "
        f"PERFORM pg_advisory_xact_lock_shared({LOCK}, exp); "
        + _STALE.format(e="exp", t="at_ms", h=HOUR_MS)
        + "; END $$ LANGUAGE plpgsql",
        "CREATE FUNCTION heron_rollup_trace(tid varchar) RETURNS void AS $$ BEGIN "
        "PERFORM heron_rollup_stale(t.experiment_id, t.request_time) FROM traces AS t "
        "WHERE t.trace_id = tid; "
        "PERFORM heron_rollup_stale(s.experiment_id, s.start_time_ns / 1000000) FROM spans AS s "
        "WHERE s.trace_id = tid AND s.span_type = 'TOOL'; END $$ LANGUAGE plpgsql",
    ]
    for table in (*_SOURCES, "trace_metadata"):
        steps = []
        if table in _SOURCES:
            exp, at, when = _SOURCES[table]
            for op_name, r in (("INSERT", "OLD"), ("DELETE", "NEW")):  # skip the row that is not
                check = f" AND {when.format(r=r)}" if when else ""
                steps.append(
                    f"IF TG_OP <> '{op_name}'{check} THEN "
                    f"PERFORM heron_rollup_stale({r}.{exp}, ({at.format(r=r)})::bigint); END IF;"
                )
        if table == "traces":
            steps.append(
                "IF TG_OP = 'UPDATE' AND NEW.model_id IS DISTINCT FROM OLD.model_id THEN "
                "PERFORM heron_rollup_trace(NEW.trace_id); END IF;"
            )
        for event, condition in _KEYS.get(table, {}).items():
            calls = " ".join(f"PERFORM heron_rollup_trace({r}.trace_id);" for r in _ROWS[event])
            steps.append(f"IF TG_OP = '{event}' AND ({condition}) THEN {calls} END IF;")
        made.append(
            f"CREATE FUNCTION heron_rollup_{table}() RETURNS trigger AS $$ BEGIN "
            + " ".join(steps)
            + " RETURN NULL; END $$ LANGUAGE plpgsql"
        )
        made.append(
            f"CREATE TRIGGER trg_rollup_{table} AFTER INSERT OR UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION heron_rollup_{table}()"
        )
    return made


def _keyed(name: str, *columns: sa.Column[Any]) -> None:
    op.create_table(
        name,
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("hour_ms", sa.BigInteger(), nullable=False),
        sa.Column("model_id", sa.String(length=250), nullable=True),
        sa.Column("environment", sa.Text(), nullable=True),
        sa.Column("span_type", sa.String(length=100), nullable=False),
        *columns,
    )
    op.create_index(f"ix_{name}_hour", name, ["experiment_id", "hour_ms"])


def upgrade() -> None:
    op.create_table(
        "trace_rollup_hours",
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("hour_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("experiment_id", "hour_ms", name="pk_trace_rollup_hours"),
    )
    _keyed(
        "trace_rollups",
        *(sa.Column(c, sa.BigInteger(), nullable=False) for c in (
            "traces", "errors", "input_tokens", "output_tokens", "total_tokens")),
        sa.Column("cost", sa.Float(precision=53), nullable=False),
        sa.Column("durations", sa.Text(), nullable=False),
    )  # fmt: skip
    _keyed(
        "trace_rollup_scores",
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Float(precision=53), nullable=False),
    )
    _keyed(
        "trace_rollup_tools",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("calls", sa.BigInteger(), nullable=False),
        sa.Column("errors", sa.BigInteger(), nullable=False),
        sa.Column("durations", sa.Text(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for statement in _postgresql_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in (*_SOURCES, "trace_metadata"):
            op.execute(f"DROP TRIGGER trg_rollup_{table} ON {table}")
            op.execute(f"DROP FUNCTION heron_rollup_{table}()")
        op.execute("DROP FUNCTION heron_rollup_trace(varchar)")
        op.execute("DROP FUNCTION heron_rollup_stale(integer, bigint)")
    else:
        for table in _SOURCES:
            for event in _ROWS:
                op.execute(f"DROP TRIGGER trg_rollup_{table}_{event.lower()}")
        for table, events in _KEYS.items():
            for event in events:
                op.execute(f"DROP TRIGGER trg_rollup_keys_{table}_{event.lower()}")
    for name in ("trace_rollup_tools", "trace_rollup_scores", "trace_rollups"):
        op.drop_index(f"ix_{name}_hour", table_name=name)
        op.drop_table(name)
    op.drop_table("trace_rollup_hours")
