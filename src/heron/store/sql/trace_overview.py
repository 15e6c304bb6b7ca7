"""An experiment's traces over time, computed by the database: each bucket's volume, errors,
latency percentiles, tokens and cost (one index range of ix_traces_overview per bucket), the
feedback scores by name (ix_assessments_scores) and the tool calls by name (ix_spans_tools).

A trace filter (the search grammar's clauses) narrows all three: scores and tool calls then
count only those of the traces that pass it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Connection, and_, exists, func, literal_column, select

from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import (
    TOOL_SPAN_TYPE,
    Overview,
    Score,
    ScorePoint,
    Tool,
    ToolPoint,
    TraceBucket,
)
from heron.store.sql.tables import assessments, spans, traces
from heron.store.sql.trace_analytics_sql import (
    bucket_list,
    bucket_rows,
    errors_of,
    json_array,
    latency,
    percentiles,
    percentiles_json,
)
from heron.store.sql.traces_search import condition
from heron.store.trace_analytics import Window

_NS: ColumnElement[int] = literal_column("1000000")  # ns in a ms
_MAX_MS = (2**63 - 1) // 1_000_000  # span times are ns in a BIGINT


def overview(conn: Connection, window: Window, buckets: Sequence[tuple[int, int]]) -> Overview:
    dialect = conn.dialect.name
    conditions = [condition(c) for c in window.filter]
    experiment_id = int(window.experiment_id)
    params = {"buckets": bucket_list(buckets)}
    rows = conn.execute(_trace_buckets(dialect, experiment_id, conditions), params).all()
    filled = [_bucket(buckets[i], stats, picks) for i, stats, picks in rows]
    whole = [(window.start_ms, window.end_ms)]
    (_, stats, picks), *_ = conn.execute(
        _trace_buckets(dialect, experiment_id, conditions), {"buckets": bucket_list(whole)}
    ).all()
    return Overview(
        start_ms=window.start_ms,
        end_ms=window.end_ms,
        buckets=filled,
        totals=_bucket(whole[0], stats, picks),
        scores=_scores(conn, experiment_id, conditions, buckets, params),
        tools=_tools(conn, window, conditions, buckets, params),
    )


def _trace_buckets(dialect: str, experiment_id: int, conditions: list[Any]) -> Any:
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
    return select(bk.c.i, stats, percentiles_json(dialect, durations)).order_by(bk.c.i)


def _bucket(bounds: tuple[int, int], stats: str, picks: str) -> TraceBucket:
    count, errors, input_tokens, output_tokens, total_tokens, cost = orjson.loads(stats)
    return TraceBucket(
        start_ms=bounds[0],
        end_ms=bounds[1],
        traces=int(count),
        errors=int(errors),
        latency=latency(orjson.loads(picks)),
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
    bk = bucket_rows(conn.dialect.name)
    a = assessments.c
    joined = bk.join(
        assessments,
        and_(
            a.experiment_id == experiment_id,
            a.trace_time >= bk.c.lo,
            a.trace_time < bk.c.hi,
            a.kind == literal_column(f"'{AssessmentKind.FEEDBACK.value}'"),
            a.valid.is_(True),
        ),
    )
    if conditions:
        joined = joined.join(traces, traces.c.trace_id == a.trace_id)
    query = (
        select(bk.c.i, a.name, func.count(a.score), func.avg(a.score))
        .select_from(joined)
        .where(*conditions)
        .group_by(bk.c.i, a.name)
    )
    points: dict[str, list[ScorePoint]] = defaultdict(list)
    for i, name, count, mean in conn.execute(query, params):
        start, end = buckets[i]
        mean = None if mean is None else float(mean)
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
    window: Window,
    conditions: list[Any],
    buckets: Sequence[tuple[int, int]],
    params: dict[str, Any],
) -> list[Tool]:
    dialect = conn.dialect.name
    s = spans.c
    tool = [
        s.experiment_id == int(window.experiment_id),
        s.span_type == literal_column(f"'{TOOL_SPAN_TYPE}'"),  # the partial index's own words
    ]
    if conditions:
        tool.append(exists().where(traces.c.trace_id == s.trace_id, *conditions))
    in_window = [
        *tool,
        s.start_time_ns >= min(window.start_ms, _MAX_MS) * 1_000_000,
        s.start_time_ns < min(window.end_ms, _MAX_MS) * 1_000_000,
    ]
    rows = select(
        s.name.label("g"),
        s.status,
        (s.end_time_ns - s.start_time_ns).self_group().op("/")(_NS).label("d"),
    ).where(*in_window)
    found = rows.subquery()
    counts = select(found.c.g, func.count(), errors_of(found.c.status)).group_by(found.c.g)
    picks = {g: latency(values) for g, *values in conn.execute(percentiles(dialect, found, "g"))}
    return [
        Tool(
            name=name,
            calls=calls,
            errors=int(errors),
            latency=picks.get(name, latency(None)),
            points=points,
        )
        for (name, calls, errors), points in _tool_points(
            conn, tool, conn.execute(counts).all(), buckets, params
        )
    ]


def _tool_points(
    conn: Connection,
    tool: list[ColumnElement[bool]],
    totals: Sequence[Any],
    buckets: Sequence[tuple[int, int]],
    params: dict[str, Any],
) -> list[tuple[Any, list[ToolPoint]]]:
    bk = bucket_rows(conn.dialect.name)
    s = spans.c
    in_bucket = and_(*tool, s.start_time_ns >= bk.c.lo * _NS, s.start_time_ns < bk.c.hi * _NS)
    query = (
        select(bk.c.i, s.name, func.count(), errors_of(s.status))
        .select_from(bk.join(spans, in_bucket))
        .group_by(bk.c.i, s.name)
    )
    points: dict[str, list[ToolPoint]] = defaultdict(list)
    for i, name, calls, errors in conn.execute(query, params):
        start, end = buckets[i]
        points[name].append(ToolPoint(start_ms=start, end_ms=end, calls=calls, errors=int(errors)))
    ordered = sorted(totals, key=lambda row: (-row[1], row[0]))  # most called first
    return [(row, sorted(points[row[0]], key=lambda p: p.start_ms)) for row in ordered]
