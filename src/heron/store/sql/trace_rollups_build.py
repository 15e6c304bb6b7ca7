"""The rollup rows of some hours, read from the raw rows (trace_rollups.py writes them): by
app version, environment (the trace's metadata mlflow.source.type) and span type, '' for
every trace and each span type for the traces holding one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Select,
    and_,
    func,
    literal,
    literal_column,
    or_,
    select,
)

from heron.entities import reserved
from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import TOOL_SPAN_TYPE
from heron.store.sql.tables import assessments, spans, trace_metadata, traces
from heron.store.sql.trace_analytics_sql import errors_of

HOUR_MS = 3_600_000
EVERY = ""  # the span_type of the rows that count every trace
_HOUR: ColumnElement[int] = literal_column(str(HOUR_MS))
_NS: ColumnElement[int] = literal_column("1000000")
# A trace's rows by: its app version, environment and span type (EVERY or one it holds).
Keyed = Callable[[FromClause, Any, Select[Any], bool], tuple[FromClause, list[Any]]]


def within(column: Any, hours: Sequence[int], scale: Any = None) -> Any:
    """`column` (ms, or ns with scale) in any of the hours, as few ranges as they make."""
    ranges: list[list[int]] = []
    for hour in hours:
        if ranges and ranges[-1][1] == hour:
            ranges[-1][1] = hour + HOUR_MS
        else:
            ranges.append([hour, hour + HOUR_MS])
    factor = 1 if scale is None else 1_000_000
    return or_(*(and_(column >= lo * factor, column < hi * factor) for lo, hi in ranges))


def _frequency(table: dict[int, int]) -> str:
    return orjson.dumps([list(table), list(table.values())]).decode()


def _keyed(source: FromClause, trace_id: Any, ids: Select[Any], by_type: bool) -> Any:
    """`source` joined to its trace's environment and, by_type, to each span type the trace
    holds (`ids`: the traces that matter); with the two key columns."""
    env = trace_metadata.alias("env")
    joined = source.outerjoin(
        env, and_(env.c.trace_id == trace_id, env.c.key == reserved.SOURCE_TYPE)
    )
    if not by_type:
        return joined, [env.c.value, literal(EVERY)]
    s = spans.alias("kind").c
    held = s.trace_id.in_(ids.correlate(None))
    kinds = select(s.trace_id, s.span_type).where(held).distinct().subquery("k")
    return joined.join(kinds, kinds.c.trace_id == trace_id), [env.c.value, kinds.c.span_type]


def trace_rows(conn: Connection, experiment_id: int, hours: Sequence[int]) -> list[Any]:
    t = traces.c
    hour = (t.request_time // _HOUR * _HOUR).label("h")
    where = [t.experiment_id == experiment_id, within(t.request_time, hours)]
    sums: dict[tuple[Any, ...], list[Any]] = {}
    durations: dict[tuple[Any, ...], dict[int, int]] = defaultdict(dict)
    for by_type in (False, True):
        source, keys = _keyed(traces, t.trace_id, select(t.trace_id).where(*where), by_type)
        query: Any = (
            select(
                hour, t.model_id, *keys, t.execution_duration, func.count(), errors_of(t.state),
                func.coalesce(func.sum(t.input_tokens), 0),
                func.coalesce(func.sum(t.output_tokens), 0),
                func.coalesce(func.sum(t.total_tokens), 0),
                func.coalesce(func.sum(t.total_cost), 0),
            )
            .select_from(source)
            .where(*where)
            .group_by(hour, t.model_id, *keys, t.execution_duration)
        )  # fmt: skip
        for h, model_id, environment, kind, d, *figures in conn.execute(query):
            key = (int(h), model_id, environment, kind)
            total = sums.setdefault(key, [0, 0, 0, 0, 0, 0.0])
            for k, value in enumerate(figures):
                total[k] += value
            if d is not None:
                durations[key][int(d)] = int(figures[0])
    names = ("traces", "errors", "input_tokens", "output_tokens", "total_tokens", "cost")
    return [
        {**_key(experiment_id, key), **dict(zip(names, total, strict=True)),
         "durations": _frequency(durations[key])}
        for key, total in sums.items()
    ]  # fmt: skip


def _key(experiment_id: int, key: tuple[Any, ...]) -> dict[str, Any]:
    h, model_id, environment, kind = key[:4]
    return {"experiment_id": experiment_id, "hour_ms": h, "model_id": model_id,
            "environment": environment, "span_type": kind}  # fmt: skip


def score_rows(conn: Connection, experiment_id: int, hours: Sequence[int]) -> list[Any]:
    a = assessments.c
    hour = (a.trace_time // _HOUR * _HOUR).label("h")
    where = [
        a.experiment_id == experiment_id,
        within(a.trace_time, hours),
        a.kind == literal_column(f"'{AssessmentKind.FEEDBACK.value}'"),
        a.valid.is_(True),
    ]
    found = []
    for by_type in (False, True):
        source, keys = _keyed(assessments, a.trace_id, select(a.trace_id).where(*where), by_type)
        query: Any = (
            select(hour, a.model_id, *keys, a.name, func.count(a.score), func.sum(a.score))
            .select_from(source)
            .where(*where)
            .group_by(hour, a.model_id, *keys, a.name)
        )
        found += [
            {**_key(experiment_id, (int(h), m, env, kind)), "name": name, "n": n,
             "total": total or 0.0}
            for h, m, env, kind, name, n, total in conn.execute(query)
        ]  # fmt: skip
    return found


def tool_rows(conn: Connection, experiment_id: int, hours: Sequence[int]) -> list[Any]:
    s, t = spans.c, traces.c
    hour = (s.start_time_ns // _NS // _HOUR * _HOUR).label("h")
    d = (s.end_time_ns - s.start_time_ns).self_group().op("/")(_NS).label("d")
    where = [
        s.experiment_id == experiment_id,
        s.span_type == literal_column(f"'{TOOL_SPAN_TYPE}'"),
        within(s.start_time_ns, hours, scale=True),
    ]
    sums: dict[tuple[Any, ...], list[int]] = {}
    durations: dict[tuple[Any, ...], dict[int, int]] = defaultdict(dict)
    for by_type in (False, True):
        tools = spans.outerjoin(traces, t.trace_id == s.trace_id)
        source, keys = _keyed(tools, s.trace_id, select(s.trace_id).where(*where), by_type)
        query: Any = (
            select(hour, t.model_id, *keys, s.name, d, func.count(), errors_of(s.status))
            .select_from(source)
            .where(*where)
            .group_by(hour, t.model_id, *keys, s.name, d)
        )
        for h, model_id, environment, kind, name, ms, calls, errors in conn.execute(query):
            key = (int(h), model_id, environment, kind, name)
            total = sums.setdefault(key, [0, 0])
            total[0] += calls
            total[1] += errors
            if ms is not None:
                durations[key][int(ms)] = int(calls)
    return [
        {**_key(experiment_id, key), "name": key[4], "calls": calls, "errors": errors,
         "durations": _frequency(durations[key])}
        for key, (calls, errors) in sums.items()
    ]  # fmt: skip
