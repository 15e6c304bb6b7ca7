"""An experiment's traces over time, computed by the database: each bucket's volume, errors,
latency percentiles, tokens and cost (one index range of ix_traces_overview per bucket), the
feedback scores by name (ix_assessments_scores) and the tool calls by name (ix_spans_tools);
whole hours that have ended come from the hourly rollups (trace_rollups.py) instead, exact as
the raw rows, when the filter is none or `=` on an app version, environment or span type.

A trace filter (the search grammar's clauses) narrows all three: scores and tool calls then
count only those of the traces that pass it."""

from __future__ import annotations

import dataclasses
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import orjson
from sqlalchemy import ColumnElement, Connection, Table, literal_column

from heron.entities import reserved
from heron.entities.trace_analytics import (
    Latency,
    Overview,
    Score,
    ScorePoint,
    Tool,
    ToolPoint,
    TraceBucket,
)
from heron.search.traces import TraceClause
from heron.store.sql.database import Database
from heron.store.sql.tables_rollups import trace_rollup_scores, trace_rollup_tools, trace_rollups
from heron.store.sql.trace_analytics_sql import (
    Frequencies,
    bucket_list,
    frequency_of,
)
from heron.store.sql.trace_overview_few import FEW, few_traces
from heron.store.sql.trace_overview_few import scores as few_scores
from heron.store.sql.trace_overview_few import tools as few_tools
from heron.store.sql.trace_overview_few import trace_figures as few_figures
from heron.store.sql.trace_overview_raw import passing_table, raw_scores, raw_tools, trace_buckets
from heron.store.sql.trace_rollups import HOUR_MS, Key, Plan, ensure, marked
from heron.store.sql.trace_rollups import plan as rollup_plan
from heron.store.sql.trace_rollups import read as read_rollups
from heron.store.sql.traces_search import condition
from heron.store.trace_analytics import Window

_NS: ColumnElement[int] = literal_column("1000000")  # ns in a ms
T = TypeVar("T")


@dataclasses.dataclass(frozen=True, slots=True)
class _Source:
    """What one part reads: raw `pieces` (each owned by bucket `owners[k]`), and the marked
    rollup `hours` (hour -> bucket) of the rows `version` selects."""

    experiment_id: int
    conditions: list[Any]
    pieces: list[tuple[int, int]]
    owners: list[int]
    hours: dict[int, int]
    version: Key
    bounds: Sequence[tuple[int, int]]  # the buckets
    among: Table | None = None  # the traces passing the filter, when read first

    @property
    def count(self) -> int:
        return len(self.bounds)


_RAW = object()  # a filter the rollups cannot answer


def overview(
    database: Database,
    window: Window,
    buckets: Sequence[tuple[int, int]],
    *,
    rollups: bool = True,
    few: int = FEW,
) -> Overview:
    """The three parts (traces, scores, tool calls) run at once, each in a read transaction
    of its own: on two cores the page waits for the slowest, not for the three in turn.
    Whole hours that have ended come from the hourly rollups (built first where missing)
    when the filter is none or `=` on an app version, an environment or a span type (or on
    two or three of them); the rest from the raw rows. A filter that
    leaves at most `few` traces is read through them (trace_overview_few.py); past that, the
    ids passing it are read once into a temporary table, and the three parts, in turn on
    that one connection, match their index ranges against it (tool calls: of traces started
    at most a day before the window, as for few traces).
    `rollups=False` reads everything raw, the filter in each statement (the reference the
    tests hold the others to)."""
    conditions = [condition(c) for c in window.filter]
    experiment_id = int(window.experiment_id)
    version = _key_of(window.filter) if rollups else _RAW
    cut = rollup_plan(buckets, int(time.time() * 1000)) if version is not _RAW else None
    if cut is not None:
        ensure(database, experiment_id, cut.hours)
    if cut is None and conditions and rollups:
        with database.read() as conn:
            read_few = few_traces(conn, experiment_id, conditions, buckets, few)
            if read_few is not None:
                filled, totals = few_figures(read_few)
                return _overview(window, filled, totals, few_scores(conn, read_few),
                                 few_tools(conn, read_few))  # fmt: skip
            with passing_table(conn, experiment_id, conditions, buckets[0][0],
                               buckets[-1][1]) as among:  # fmt: skip
                source = _Source(experiment_id, conditions, list(buckets),
                                 list(range(len(buckets))), {}, Key(), buckets, among)  # fmt: skip
                filled, totals = _traces_of(conn, source, buckets)
                return _overview(window, filled, totals, _scores(conn, source),
                                 _tools(conn, source))  # fmt: skip

    def read(part: Callable[[Connection, _Source], T]) -> T:
        with database.read() as conn:
            if cut is None:
                source = _Source(experiment_id, conditions, list(buckets),
                                 list(range(len(buckets))), {}, Key(), buckets)  # fmt: skip
            else:
                source = _source(conn, experiment_id, conditions, cut, version, buckets)
            return part(conn, source)

    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="heron-overview") as pool:
        scores = pool.submit(read, _scores)
        tools = pool.submit(read, _tools)
        filled, totals = read(lambda conn, source: _traces_of(conn, source, buckets))
        return _overview(window, filled, totals, scores.result(), tools.result())


def _overview(
    window: Window,
    filled: list[TraceBucket],
    totals: TraceBucket,
    scores: list[Score],
    tools: list[Tool],
) -> Overview:
    return Overview(
        start_ms=window.start_ms,
        end_ms=window.end_ms,
        buckets=filled,
        totals=dataclasses.replace(totals, start_ms=window.start_ms, end_ms=window.end_ms),
        scores=scores,
        tools=tools,
    )


# the filter clauses (field, key) the rollups are keyed by, and the Key field each fills
_KEYED = {
    ("metadata", reserved.TRACE_MODEL_ID): "model_id",
    ("metadata", reserved.SOURCE_TYPE): "environment",
    ("span", "type"): "span_type",
}


def _key_of(clauses: Sequence[TraceClause]) -> Any:
    """The rollup rows a filter reads: none, or `=` on one app version, one environment and
    one span type (any of the three, each at most once); else _RAW."""
    found: dict[str, str] = {}
    for c in clauses:
        field = _KEYED.get((c.field, c.key))
        if field is None or field in found or c.op != "=" or not isinstance(c.value, str):
            return _RAW
        found[field] = c.value
    return Key(**found)


def _source(
    conn: Connection,
    experiment_id: int,
    conditions: list[Any],
    cut: Plan,
    version: Any,
    buckets: Sequence[tuple[int, int]],
) -> _Source:
    """The plan as this transaction sees it: hours not marked (any more) are read raw."""
    have = marked(conn, experiment_id, cut.hours)
    pieces, owners = list(cut.pieces), list(cut.piece_buckets)
    for hour, i in cut.hours.items():
        if hour not in have:
            pieces.append((hour, hour + HOUR_MS))
            owners.append(i)
    hours = {h: i for h, i in cut.hours.items() if h in have}
    return _Source(experiment_id, conditions, pieces, owners, hours, version, buckets)


def trace_figures(
    conn: Connection,
    experiment_id: int,
    conditions: list[Any],
    buckets: Sequence[tuple[int, int]],
    params: dict[str, Any],
) -> tuple[list[TraceBucket], TraceBucket]:
    """Each bucket's figures and the window's, from the raw rows."""
    source = _Source(experiment_id, conditions, list(buckets), list(range(len(buckets))), {},
                     Key(), buckets)  # fmt: skip
    return _traces_of(conn, source, buckets)


def _traces_of(
    conn: Connection, source: _Source, buckets: Sequence[tuple[int, int]]
) -> tuple[list[TraceBucket], TraceBucket]:
    """Each bucket's figures, and the window's: its counts added up, its percentiles read
    from the buckets' frequency tables added up."""
    sums: list[list[Any]] = [[0, 0, 0, 0, 0, 0.0] for _ in range(source.count)]
    tables = [Frequencies() for _ in range(source.count)]

    def add(i: int, figures: Sequence[Any], values: Sequence[Any], counts: Sequence[Any]) -> None:
        total = sums[i]
        for k, value in enumerate(figures):
            total[k] += value
        tables[i].add(values, counts)

    if source.pieces:
        query = trace_buckets(
            conn.dialect.name,
            source.experiment_id,
            source.conditions,
            source.among,
        )
        for k, stats, frequency in conn.execute(query, {"buckets": bucket_list(source.pieces)}):
            found = frequency_of(frequency)
            add(source.owners[k], orjson.loads(stats), list(found.counts),
                list(found.counts.values()))  # fmt: skip
    rows = read_rollups(conn, trace_rollups, source.experiment_id, source.hours, source.version)
    for hour, *figures, durations in rows:
        add(source.hours[hour], figures, *orjson.loads(durations))
    filled = [_bucket(buckets[i], sums[i], tables[i].latency()) for i in range(source.count)]
    durations = Frequencies()
    for table in tables:
        durations.add(list(table.counts), list(table.counts.values()))
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


def _bucket(bounds: tuple[int, int], stats: Sequence[Any], latency: Latency) -> TraceBucket:
    count, errors, input_tokens, output_tokens, total_tokens, cost = stats
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


def _scores(conn: Connection, source: _Source) -> list[Score]:
    """Each bucket's valid feedback by name (how many values read as numbers, their sum):
    raw, one range of ix_assessments_scores per piece; then the rollups' hours."""
    sums: dict[str, dict[int, list[float]]] = defaultdict(dict)  # name -> bucket -> [n, sum]

    def add(name: str, i: int, count: float, total: float) -> None:
        point = sums[name].setdefault(i, [0, 0.0])
        point[0] += count
        point[1] += total

    if source.pieces:
        query = raw_scores(
            conn.dialect.name,
            source.experiment_id,
            source.conditions,
            source.among,
        )
        for k, text in conn.execute(query, {"buckets": bucket_list(source.pieces)}):
            names, counts, totals = orjson.loads(text) if text else ([], [], [])
            for name, count, total in zip(names or (), counts or (), totals or (), strict=True):
                add(name, source.owners[k], count, total or 0.0)
    rows = read_rollups(
        conn, trace_rollup_scores, source.experiment_id, source.hours, source.version
    )
    for hour, name, count, total in rows:
        add(name, source.hours[hour], count, total)
    return [_score(name, sums[name], source) for name in sorted(sums)]


def _score(name: str, by_bucket: dict[int, list[float]], source: _Source) -> Score:
    bounds = source.bounds
    series = [
        ScorePoint(start_ms=bounds[i][0], end_ms=bounds[i][1], count=int(n),
                   mean=None if not n else float(total) / n)
        for i, (n, total) in sorted(by_bucket.items())
    ]  # fmt: skip
    count = sum(p.count for p in series)
    total = sum(t for n, t in by_bucket.values() if n)
    return Score(name=name, count=count, mean=total / count if count else None, points=series)


def _tools(conn: Connection, source: _Source) -> list[Tool]:
    """Each bucket's TOOL spans by name and duration (whole ms): calls, errors and the
    frequency tables of their latency; raw, one range of ix_spans_tools per piece; then the
    rollups' hours. The most called first."""
    calls: dict[str, dict[int, list[int]]] = defaultdict(dict)  # name -> bucket -> [calls, errors]
    latency: dict[str, Frequencies] = defaultdict(Frequencies)  # name -> ms -> calls
    if source.pieces:
        query = raw_tools(
            conn.dialect.name,
            source.experiment_id,
            source.conditions,
            source.among,
        )
        for k, text in conn.execute(query, {"buckets": bucket_list(source.pieces)}):
            names, values, counts, errors = orjson.loads(text) if text else (None,) * 4
            for name, value, count, failed in zip(
                names or (), values or (), counts or (), errors or (), strict=True
            ):
                _add_calls(calls[name], source.owners[k], count, failed)
                if value is not None:
                    latency[name].add((value,), (count,))
    rows = read_rollups(
        conn, trace_rollup_tools, source.experiment_id, source.hours, source.version
    )
    for hour, name, count, failed, durations in rows:
        _add_calls(calls[name], source.hours[hour], count, failed)
        latency[name].add(*orjson.loads(durations))
    bounds = source.bounds
    tools = []
    for name, by_bucket in calls.items():
        points = [
            ToolPoint(start_ms=bounds[i][0], end_ms=bounds[i][1], calls=n, errors=e)
            for i, (n, e) in sorted(by_bucket.items())
        ]
        tools.append(
            Tool(
                name=name,
                calls=sum(p.calls for p in points),
                errors=sum(p.errors for p in points),
                latency=latency[name].latency(),
                points=points,
            )
        )
    return sorted(tools, key=lambda t: (-t.calls, t.name))


def _add_calls(by_bucket: dict[int, list[int]], i: int, count: int, failed: int) -> None:
    point = by_bucket.setdefault(i, [0, 0])
    point[0] += count
    point[1] += failed
