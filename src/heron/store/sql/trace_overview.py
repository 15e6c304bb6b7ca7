"""An experiment's traces over time, computed by the database: each bucket's volume, errors,
latency percentiles, tokens and cost (one index range of ix_traces_overview per bucket), the
feedback scores by name (ix_assessments_scores) and the tool calls by name (ix_spans_tools).

A trace filter (the search grammar's clauses) narrows all three: scores and tool calls then
count only those of the traces that pass it."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import orjson
from sqlalchemy import ColumnElement, Connection, exists, func, literal_column, select

from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import (
    TOOL_SPAN_TYPE,
    Latency,
    Overview,
    Score,
    ScorePoint,
    Tool,
    ToolPoint,
    TraceBucket,
)
from heron.store.sql.database import Database
from heron.store.sql.tables import assessments, spans, traces
from heron.store.sql.trace_analytics_sql import (
    Frequencies,
    bucket_list,
    bucket_rows,
    errors_of,
    frequencies,
    frequency_of,
    json_agg,
    json_array,
)
from heron.store.sql.traces_search import condition
from heron.store.trace_analytics import Window

_NS: ColumnElement[int] = literal_column("1000000")  # ns in a ms
T = TypeVar("T")


def overview(database: Database, window: Window, buckets: Sequence[tuple[int, int]]) -> Overview:
    """The three parts (traces, scores, tool calls) run at once, each in a read transaction
    of its own: on two cores the page waits for the slowest, not for the three in turn."""
    conditions = [condition(c) for c in window.filter]
    experiment_id = int(window.experiment_id)
    params = {"buckets": bucket_list(buckets)}

    def read(part: Callable[..., T]) -> T:
        with database.read() as conn:
            return part(conn, experiment_id, conditions, buckets, params)

    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="heron-overview") as pool:
        scores = pool.submit(read, _scores)
        tools = pool.submit(read, _tools)
        filled, totals = read(trace_figures)
        return Overview(
            start_ms=window.start_ms,
            end_ms=window.end_ms,
            buckets=filled,
            totals=dataclasses.replace(totals, start_ms=window.start_ms, end_ms=window.end_ms),
            scores=scores.result(),
            tools=tools.result(),
        )


def trace_figures(
    conn: Connection,
    experiment_id: int,
    conditions: list[Any],
    buckets: Sequence[tuple[int, int]],
    params: dict[str, Any],
) -> tuple[list[TraceBucket], TraceBucket]:
    """Each bucket's figures, and the window's: its counts added up, its percentiles read
    from the buckets' frequency tables added up."""
    rows = conn.execute(_trace_buckets(conn.dialect.name, experiment_id, conditions), params)
    filled = []
    durations = Frequencies()
    for i, stats, frequency in rows:
        found = frequency_of(frequency)
        durations.add(list(found.counts), list(found.counts.values()))
        filled.append(_bucket(buckets[i], stats, found.latency()))
    totals = TraceBucket(
        start_ms=0,
        end_ms=0,
        traces=sum(b.traces for b in filled),
        errors=sum(b.errors for b in filled),
        latency=durations.latency(),
        input_tokens=sum(b.input_tokens for b in filled),
        output_tokens=sum(b.output_tokens for b in filled),
        total_tokens=sum(b.total_tokens for b in filled),
        cost=sum(b.cost for b in filled),
    )
    return filled, totals


def _trace_buckets(dialect: str, experiment_id: int, conditions: list[Any]) -> Any:
    """Each bucket's counts, tokens and cost, and its durations' frequency table: two
    correlated subqueries, each one range of ix_traces_overview."""
    bk = bucket_rows(dialect)
    t = traces.c
    in_bucket = [
        t.experiment_id == experiment_id,
        t.request_time >= bk.c.lo,
        t.request_time < bk.c.hi,
        *conditions,
    ]
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


def _bucket(bounds: tuple[int, int], stats: str, latency: Latency) -> TraceBucket:
    count, errors, input_tokens, output_tokens, total_tokens, cost = orjson.loads(stats)
    return TraceBucket(
        start_ms=bounds[0],
        end_ms=bounds[1],
        traces=int(count),
        errors=int(errors),
        latency=latency,
        input_tokens=int(input_tokens),
        output_tokens=int(output_tokens),
        total_tokens=int(total_tokens),
        cost=float(cost),
    )


def _scores(
    conn: Connection,
    experiment_id: int,
    conditions: list[Any],
    buckets: Sequence[tuple[int, int]],
    params: dict[str, Any],
) -> list[Score]:
    """Each bucket's valid feedback by name (how many values read as numbers, their sum),
    one range of ix_assessments_scores per bucket."""
    dialect = conn.dialect.name
    bk = bucket_rows(dialect)
    a = assessments.c
    source = assessments.join(traces, traces.c.trace_id == a.trace_id) if conditions else None
    by_name = (
        select(a.name, func.count(a.score).label("n"), func.sum(a.score).label("total"))
        .where(
            a.experiment_id == experiment_id,
            a.trace_time >= bk.c.lo,
            a.trace_time < bk.c.hi,
            a.kind == literal_column(f"'{AssessmentKind.FEEDBACK.value}'"),
            a.valid.is_(True),
            *conditions,
        )
        .group_by(a.name)
        .correlate(bk)
    )
    if source is not None:
        by_name = by_name.select_from(source)
    grouped = by_name.subquery()
    arrays = [json_agg(dialect, c) for c in grouped.c]
    query = select(bk.c.i, select(json_array(dialect, *arrays)).scalar_subquery())
    points: dict[str, list[ScorePoint]] = defaultdict(list)
    for i, text in conn.execute(query, params):
        names, counts, totals = orjson.loads(text) if text else ([], [], [])
        start, end = buckets[i]
        for name, count, total in zip(names or (), counts or (), totals or (), strict=True):
            mean = None if not count else float(total) / count
            points[name].append(ScorePoint(start_ms=start, end_ms=end, count=count, mean=mean))
    scores = []
    for name in sorted(points):
        series = sorted(points[name], key=lambda p: p.start_ms)
        count = sum(p.count for p in series)
        total = sum(p.mean * p.count for p in series if p.mean is not None)
        scores.append(
            Score(name=name, count=count, mean=total / count if count else None, points=series)
        )
    return scores


def _tools(
    conn: Connection,
    experiment_id: int,
    conditions: list[Any],
    buckets: Sequence[tuple[int, int]],
    params: dict[str, Any],
) -> list[Tool]:
    """Each bucket's TOOL spans by name and duration (whole ms): calls, errors and the
    frequency tables of their latency, one range of ix_spans_tools per bucket."""
    dialect = conn.dialect.name
    bk = bucket_rows(dialect)
    s = spans.c
    in_bucket = [
        s.experiment_id == experiment_id,
        s.span_type == literal_column(f"'{TOOL_SPAN_TYPE}'"),  # the partial index's own words
        s.start_time_ns >= bk.c.lo * _NS,
        s.start_time_ns < bk.c.hi * _NS,
    ]
    if conditions:
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
    query = select(bk.c.i, select(json_array(dialect, *arrays)).scalar_subquery())
    return _tool_figures(conn.execute(query, params), buckets)


def _tool_figures(rows: Iterable[Any], buckets: Sequence[tuple[int, int]]) -> list[Tool]:
    """Tools from each bucket's JSON [[name...], [ms...], [calls...], [errors...]]: calls and
    errors by bucket, latency from the window's calls by duration, the most called first."""
    calls: dict[str, dict[int, list[int]]] = defaultdict(dict)  # name -> bucket -> [calls, errors]
    latency: dict[str, dict[float, int]] = defaultdict(dict)  # name -> ms -> calls
    for i, text in rows:
        names, values, counts, errors = orjson.loads(text) if text else (None,) * 4
        for name, value, count, failed in zip(
            names or (), values or (), counts or (), errors or (), strict=True
        ):
            point = calls[name].get(i)
            if point is None:
                point = calls[name][i] = [0, 0]
            point[0] += count
            point[1] += failed
            if value is not None:
                by_value = latency[name]
                by_value[value] = by_value.get(value, 0) + count
    tools = []
    for name, by_bucket in calls.items():
        points = [
            ToolPoint(start_ms=buckets[i][0], end_ms=buckets[i][1], calls=n, errors=e)
            for i, (n, e) in sorted(by_bucket.items())
        ]
        tools.append(
            Tool(
                name=name,
                calls=sum(p.calls for p in points),
                errors=sum(p.errors for p in points),
                latency=Frequencies(latency[name]).latency(),
                points=points,
            )
        )
    return sorted(tools, key=lambda t: (-t.calls, t.name))  # most called first
