"""The overview's queries over the raw rows, one per part (traces, scores, tool calls), each
row of the result one bucket (bound as {"buckets": bucket_list(...)}), through the indexes
of each bucket's range; a trace filter either in each statement (row by row: for few rows,
and as the reference) or as the traces passing it, read once into a temporary table
(`passing_table`) that each index range is matched against."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    MetaData,
    String,
    Table,
    exists,
    func,
    insert,
    literal_column,
    select,
)

from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import TOOL_SPAN_TYPE
from heron.search.traces import TraceClause
from heron.store.sql.tables import assessments, spans, traces
from heron.store.sql.trace_analytics_sql import (
    bucket_rows,
    errors_of,
    frequencies,
    json_agg,
    json_array,
    without_jit,
)
from heron.store.sql.trace_key_values import passing_traces
from heron.store.sql.trace_overview_joined import joined_scores, joined_tools, joined_traces

_NS: ColumnElement[int] = literal_column("1000000")  # ns in a ms
DAY_MS = 86_400_000  # a filter's traces started this long before a window are read too
_PASSING = Table(
    "heron_passing",
    MetaData(),
    Column("trace_id", String(50), primary_key=True),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,
)


@contextmanager
def passing_table(
    conn: Connection,
    experiment_id: int,
    clauses: Sequence[TraceClause],
    start_ms: int,
    end_ms: int,
) -> Iterator[Table]:
    """A temporary table (of this connection, in its transaction) of the ids of the traces
    started in [start_ms, end_ms) that pass the filter: the filter is evaluated once for
    each of them, here only (on PostgreSQL a tag or metadata clause as its key's index range,
    trace_key_values.py); the parts then match their index ranges' trace ids against the
    table's key. Dropped after use (on an error, the read transaction's rollback drops it)."""
    dialect = conn.dialect.name
    _PASSING.create(conn)
    if dialect == "postgresql":
        # The passing traces are a hash join of the window's ids and each clause's index
        # range, read by this connection alone: the two slices already share the cores (a
        # parallel plan's workers only add CPU).
        conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
        conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")  # the hashes in memory
        without_jit(conn)
    passing = passing_traces(dialect, experiment_id, clauses, start_ms, end_ms)
    conn.execute(insert(_PASSING).from_select(["trace_id"], passing))
    if dialect == "postgresql":
        # The parts hash-join the slice's index ranges to the table (trace_overview_joined.py):
        # the planner, not knowing the ranges' bounds (bound in a JSON list), would probe the
        # table's key for each row of them (and read the row: a new table is not vacuumed).
        conn.exec_driver_sql(f"ANALYZE {_PASSING.name}")
        conn.exec_driver_sql("SET LOCAL enable_nestloop = off")
    yield _PASSING
    _PASSING.drop(conn)


def _among(column: ColumnElement[Any], among: Table) -> ColumnElement[bool]:
    return column.in_(select(among.c.trace_id))


def floor(experiment_id: int, conditions: list[Any], start_ms: int, end_ms: int) -> Any:
    """How many traces of the window pass the filter: the least any raw read must do."""
    t = traces.c
    return select(func.count()).where(
        t.experiment_id == experiment_id, t.request_time >= start_ms, t.request_time < end_ms,
        *conditions,
    )  # fmt: skip


def trace_buckets(
    dialect: str,
    experiment_id: int,
    conditions: list[Any],
    among: Table | None = None,
) -> Any:
    """Each bucket's counts, tokens and cost, and its durations' frequency table: two
    correlated subqueries, each one range of ix_traces_overview."""
    if among is not None and dialect == "postgresql":
        return joined_traces(experiment_id, among)
    bk = bucket_rows(dialect)
    t = traces.c
    in_bucket = [t.experiment_id == experiment_id, t.request_time >= bk.c.lo,
                 t.request_time < bk.c.hi]  # fmt: skip
    in_bucket += [_among(t.trace_id, among)] if among is not None else conditions
    stats = (
        select(
            json_array(
                dialect,
                func.count(),
                errors_of(t.state),
                func.coalesce(func.sum(t.input_tokens), 0),
                func.coalesce(func.sum(t.output_tokens), 0),
                func.coalesce(func.sum(t.total_tokens), 0),
                func.coalesce(func.sum(t.total_cost), 0),
            )
        )
        .where(*in_bucket)
        .correlate(bk)
        .scalar_subquery()
    )
    durations = select(t.execution_duration.label("d")).where(*in_bucket).correlate(bk).subquery()
    return select(bk.c.i, stats, frequencies(dialect, durations)).order_by(bk.c.i)


def raw_scores(
    dialect: str,
    experiment_id: int,
    conditions: list[Any],
    among: Table | None = None,
) -> Any:
    if among is not None and dialect == "postgresql":
        return joined_scores(experiment_id, among)
    bk = bucket_rows(dialect)
    a = assessments.c
    where = [
        a.experiment_id == experiment_id,
        a.trace_time >= bk.c.lo,
        a.trace_time < bk.c.hi,
        a.kind == literal_column(f"'{AssessmentKind.FEEDBACK.value}'"),
        a.valid.is_(True),
    ]
    joined = None
    if among is not None:
        where.append(_among(a.trace_id, among))
    elif conditions:
        where += conditions
        joined = assessments.join(traces, traces.c.trace_id == a.trace_id)
    by_name = (
        select(a.name, func.count(a.score).label("n"), func.sum(a.score).label("total"))
        .where(*where)
        .group_by(a.name)
        .correlate(bk)
    )
    if joined is not None:
        by_name = by_name.select_from(joined)
    grouped = by_name.subquery()
    arrays = [json_agg(dialect, c) for c in grouped.c]
    return select(bk.c.i, select(json_array(dialect, *arrays)).scalar_subquery())


def raw_tools(
    dialect: str,
    experiment_id: int,
    conditions: list[Any],
    among: Table | None = None,
) -> Any:
    if among is not None and dialect == "postgresql":
        return joined_tools(experiment_id, among)
    bk = bucket_rows(dialect)
    s = spans.c
    in_bucket = [
        s.experiment_id == experiment_id,
        s.span_type == literal_column(f"'{TOOL_SPAN_TYPE}'"),  # the partial index's own words
        s.start_time_ns >= bk.c.lo * _NS,
        s.start_time_ns < bk.c.hi * _NS,
    ]
    if among is not None:
        in_bucket.append(_among(s.trace_id, among))
    elif conditions:
        in_bucket.append(exists().where(traces.c.trace_id == s.trace_id, *conditions))
    d = (s.end_time_ns - s.start_time_ns).self_group().op("/")(_NS)
    grouped = (
        select(s.name, d.label("d"), func.count().label("c"), errors_of(s.status).label("e"))
        .where(*in_bucket)
        .group_by(s.name, d)
        .correlate(bk)
        .subquery()
    )
    arrays = [json_agg(dialect, c) for c in grouped.c]
    return select(bk.c.i, select(json_array(dialect, *arrays)).scalar_subquery())
