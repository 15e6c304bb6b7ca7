"""The GenAI views' aggregates read one index range each: traces keep their session, app
version (LoggedModel) and cost as columns, spans their experiment, assessments their trace's
experiment and start time and their value as a number; covering indexes for the overview,
sessions, versions, tool calls and scores. Existing rows are filled in here.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-06 05:00:00.000000
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import orjson
import sqlalchemy as sa
from alembic import op

from heron.store.sql.traces_derived import (
    COST_FIELDS,
    MAX_INDEXED,
    cost_of_text,
    score_of,
    summed_costs,
)

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None

_BATCH = 5000
_TRACE_COLUMNS: tuple[sa.Column[Any], ...] = (
    sa.Column("session_id", sa.String(length=MAX_INDEXED), nullable=True),
    sa.Column("model_id", sa.String(length=MAX_INDEXED), nullable=True),
    sa.Column("input_cost", sa.Float(precision=53), nullable=True),
    sa.Column("output_cost", sa.Float(precision=53), nullable=True),
    sa.Column("total_cost", sa.Float(precision=53), nullable=True),
)
_ASSESSMENT_COLUMNS: tuple[sa.Column[Any], ...] = (
    sa.Column("experiment_id", sa.Integer(), nullable=True),
    sa.Column("trace_time", sa.BigInteger(), nullable=True),
    sa.Column("score", sa.Float(precision=53), nullable=True),
)
_TOOL = "span_type = 'TOOL'"


def upgrade() -> None:
    for column in _TRACE_COLUMNS:
        op.add_column("traces", column)
    op.add_column("spans", sa.Column("experiment_id", sa.Integer(), nullable=True))
    for column in _ASSESSMENT_COLUMNS:
        op.add_column("assessments", column)
    _fill_in()
    op.create_index(
        "ix_traces_overview",
        "traces",
        ["experiment_id", "request_time", "state", "execution_duration", "input_tokens",
         "output_tokens", "total_tokens", "total_cost"],
    )  # fmt: skip
    op.create_index(
        "ix_traces_session",
        "traces",
        ["experiment_id", "session_id", "request_time", "state", "execution_duration",
         "total_tokens"],
    )  # fmt: skip
    op.create_index(
        "ix_traces_model",
        "traces",
        ["experiment_id", "model_id", "request_time", "state", "execution_duration",
         "total_tokens", "total_cost"],
    )  # fmt: skip
    op.create_index(
        "ix_spans_tools",
        "spans",
        ["experiment_id", "start_time_ns", "name", "status", "end_time_ns", "span_type"],
        sqlite_where=sa.text(_TOOL),
        postgresql_where=sa.text(_TOOL),
    )
    op.create_index(
        "ix_assessments_scores",
        "assessments",
        ["experiment_id", "trace_time", "kind", "valid", "name", "score"],
    )


def _fill_in() -> None:
    for column, key in (("session_id", "mlflow.trace.session"), ("model_id", "mlflow.modelId")):
        op.execute(
            f"UPDATE traces SET {column} = (SELECT m.value FROM trace_metadata AS m "  # noqa: S608
            f"WHERE m.trace_id = traces.trace_id AND m.key = '{key}' "
            f"AND length(m.value) <= {MAX_INDEXED})"
        )
    op.execute(
        "UPDATE spans SET experiment_id = "
        "(SELECT t.experiment_id FROM traces AS t WHERE t.trace_id = spans.trace_id)"
    )
    op.execute(
        "UPDATE assessments SET "
        "experiment_id = (SELECT t.experiment_id FROM traces AS t "
        "WHERE t.trace_id = assessments.trace_id), "
        "trace_time = (SELECT t.request_time FROM traces AS t "
        "WHERE t.trace_id = assessments.trace_id)"
    )
    conn = op.get_bind()
    _fill_scores(conn)
    _fill_costs(conn)


def _fill_scores(conn: sa.Connection) -> None:
    page = sa.text(
        "SELECT assessment_id, value FROM assessments WHERE assessment_id > :after "
        "AND value IS NOT NULL ORDER BY assessment_id LIMIT :n"
    )
    update = sa.text("UPDATE assessments SET score = :score WHERE assessment_id = :id")
    after = ""
    while batch := conn.execute(page, {"after": after, "n": _BATCH}).fetchall():
        scores = [{"id": aid, "score": score_of(orjson.loads(value))} for aid, value in batch]
        scored = [s for s in scores if s["score"] is not None]
        if scored:
            conn.execute(update, scored)
        after = batch[-1][0]


def _fill_costs(conn: sa.Connection) -> None:
    """Each trace's cost: its `mlflow.trace.cost` metadata, else its spans' costs added up."""
    costs: dict[str, dict[str, float]] = {}
    rows = conn.execute(
        sa.text("SELECT trace_id, value FROM trace_metadata WHERE key = 'mlflow.trace.cost'")
    )
    for trace_id, text in rows:
        cost = cost_of_text(text)
        if cost is not None:
            costs[trace_id] = cost
    attributes = "CAST(attributes AS TEXT)"
    span_costs: dict[str, list[Any]] = defaultdict(list)
    rows = conn.execute(
        sa.text(
            f"SELECT trace_id, {attributes} FROM spans "  # noqa: S608 (no input in it)
            f"WHERE {attributes} LIKE '%mlflow.llm.cost%'"
        )
    )
    for trace_id, text in rows:
        if trace_id not in costs:
            span_costs[trace_id].append(orjson.loads(text).get("mlflow.llm.cost"))
    for trace_id, values in span_costs.items():
        cost = summed_costs(values)
        if cost is not None:
            costs[trace_id] = cost
    update = sa.text(
        "UPDATE traces SET input_cost = :input_cost, output_cost = :output_cost, "
        "total_cost = :total_cost WHERE trace_id = :trace_id"
    )
    items = [{"trace_id": t, **{k: c[k] for k in COST_FIELDS}} for t, c in costs.items()]
    for start in range(0, len(items), _BATCH):
        conn.execute(update, items[start : start + _BATCH])


def downgrade() -> None:
    op.drop_index("ix_assessments_scores", table_name="assessments")
    op.drop_index("ix_spans_tools", table_name="spans")
    for name in ("ix_traces_model", "ix_traces_session", "ix_traces_overview"):
        op.drop_index(name, table_name="traces")
    for column in _ASSESSMENT_COLUMNS:
        op.drop_column("assessments", column.name)
    op.drop_column("spans", "experiment_id")
    for column in _TRACE_COLUMNS:
        op.drop_column("traces", column.name)
