"""The GenAI overview's hourly rollups: per experiment, hour and app version, the traces'
counts, tokens, cost and durations, the feedback by name and the tool calls by name, with the
hours they are true for (tables_rollups.py). Triggers drop an hour's mark whenever a trace, a
TOOL span or an assessment in it is written or deleted (by any path: ingest, assessments,
trace deletion, retention, experiment deletion's cascades), in the writer's transaction; the
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

_STALE = "DELETE FROM trace_rollup_hours WHERE experiment_id = {e} AND hour_ms = ({t}) / {h} * {h}"
_TOOL_HOURS = (
    "DELETE FROM trace_rollup_hours WHERE experiment_id = NEW.experiment_id AND hour_ms IN "
    "(SELECT s.start_time_ns / 1000000 / {h} * {h} FROM spans AS s "
    "WHERE s.trace_id = NEW.trace_id AND s.span_type = 'TOOL')"
)
# table -> (its experiment column, its time in ms, the rows that count)
_SOURCES = {
    "traces": ("experiment_id", "{r}.request_time", None),
    "spans": ("experiment_id", "{r}.start_time_ns / 1000000", "{r}.span_type = 'TOOL'"),
    "assessments": ("experiment_id", "{r}.trace_time", None),
}


def _sqlite_triggers() -> list[str]:
    made = []
    for table, (exp, at, when) in _SOURCES.items():
        for event, rows in (("INSERT", ("NEW",)), ("DELETE", ("OLD",)), ("UPDATE", ("OLD", "NEW"))):
            body = [_STALE.format(e=f"{r}.{exp}", t=at.format(r=r), h=HOUR_MS) for r in rows]
            if table == "traces" and event == "UPDATE":
                body.append(_TOOL_HOURS.format(h=HOUR_MS))  # a new app version moves its tools
            condition = " OR ".join(when.format(r=r) for r in rows) if when else None
            made.append(
                f"CREATE TRIGGER trg_rollup_{table}_{event.lower()} AFTER {event} ON {table} "
                + (f"WHEN {condition} " if condition else "")
                + "BEGIN "
                + "; ".join(body)
                + "; END"
            )
    return made


def _postgresql_triggers() -> list[str]:
    made = [
        "CREATE FUNCTION heron_rollup_stale(exp integer, at_ms bigint) RETURNS void AS $$ "
        "BEGIN IF exp IS NULL OR at_ms IS NULL THEN RETURN; END IF; "
        f"PERFORM pg_advisory_xact_lock_shared({LOCK}, exp); "
        + _STALE.format(e="exp", t="at_ms", h=HOUR_MS)
        + "; END $$ LANGUAGE plpgsql"
    ]
    for table, (exp, at, when) in _SOURCES.items():
        steps = []
        for op_name, r in (("INSERT", "OLD"), ("DELETE", "NEW")):  # skip the row that is not
            check = f" AND {when.format(r=r)}" if when else ""
            steps.append(
                f"IF TG_OP <> '{op_name}'{check} THEN "
                f"PERFORM heron_rollup_stale({r}.{exp}, ({at.format(r=r)})::bigint); END IF;"
            )
        if table == "traces":
            steps.append(
                "IF TG_OP = 'UPDATE' AND NEW.model_id IS DISTINCT FROM OLD.model_id THEN "
                "PERFORM heron_rollup_stale(NEW.experiment_id, s.start_time_ns / 1000000) "
                "FROM spans AS s WHERE s.trace_id = NEW.trace_id AND s.span_type = 'TOOL'; END IF;"
            )
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
        for table in _SOURCES:
            op.execute(f"DROP TRIGGER trg_rollup_{table} ON {table}")
            op.execute(f"DROP FUNCTION heron_rollup_{table}()")
        op.execute("DROP FUNCTION heron_rollup_stale(integer, bigint)")
    else:
        for table in _SOURCES:
            for event in ("insert", "delete", "update"):
                op.execute(f"DROP TRIGGER trg_rollup_{table}_{event}")
    for name in ("trace_rollup_tools", "trace_rollup_scores", "trace_rollups"):
        op.drop_index(f"ix_{name}_hour", table_name=name)
        op.drop_table(name)
    op.drop_table("trace_rollup_hours")
