"""An experiment's traces over time, computed by the database: each bucket's volume, errors,
latency percentiles, tokens and cost (one index range of ix_traces_overview per bucket), the
feedback scores by name (ix_assessments_scores) and the tool calls by name (ix_spans_tools);
whole hours that have ended come from the hourly rollups (trace_rollups.py) instead, exact as
the raw rows, when the filter is none or `=` on an app version, environment, span type, tag or
user.

A trace filter (the search grammar's clauses) narrows all three: scores and tool calls then
count only those of the traces that pass it."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Table

from heron.entities import reserved
from heron.entities.trace_analytics import Overview, TraceBucket
from heron.search.traces import TraceClause
from heron.store.sql.database import Database
from heron.store.sql.tables_rollups import trace_rollup_scores, trace_rollup_tools, trace_rollups
from heron.store.sql.trace_analytics_sql import bucket_list, frequency_of, without_jit
from heron.store.sql.trace_overview_few import FEW, few_traces
from heron.store.sql.trace_overview_few import scores as few_scores
from heron.store.sql.trace_overview_few import tools as few_tools
from heron.store.sql.trace_overview_few import trace_figures as few_figures
from heron.store.sql.trace_overview_raw import (
    DAY_MS,
    passing_table,
    raw_scores,
    raw_tools,
    trace_buckets,
)
from heron.store.sql.trace_overview_sums import ScoreSums, ToolSums, TraceSums
from heron.store.sql.trace_rollups import HOUR_MS, Key, Plan, cut_hours, ensure, marked
from heron.store.sql.trace_rollups import plan as rollup_plan
from heron.store.sql.trace_rollups import read as read_rollups
from heron.store.sql.trace_rollups_labels import label_of
from heron.store.sql.traces_search import condition
from heron.store.trace_analytics import Window

T = TypeVar("T")
_SLICES = 2  # a filter leaving many traces is read in this many slices at once (_many)


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
    when the filter is none or `=` on an app version, an environment, a span type or a
    label (a tag or the user; or on two to four of them); the rest from the raw rows. A
    filter that leaves at most `few` traces is read through them (trace_overview_few.py);
    past that, see _many.
    `rollups=False` reads everything raw, the filter in each statement (the reference the
    tests hold the others to)."""
    conditions = [condition(c) for c in window.filter]
    experiment_id = int(window.experiment_id)
    version = _key_of(window.filter) if rollups else _RAW
    cut = rollup_plan(buckets, int(time.time() * 1000)) if version is not _RAW else None
    if cut is not None and not cut.hours:  # points under an hour: all raw, as any filter
        cut = None
    if cut is not None:
        ensure(database, experiment_id, cut.hours)
    if cut is None and conditions and rollups:
        with database.read() as conn:
            without_jit(conn)
            read_few = few_traces(conn, experiment_id, conditions, buckets, few)
            if read_few is not None:
                return _overview(window, buckets, few_figures(read_few),
                                 few_scores(conn, read_few), few_tools(conn, read_few))  # fmt: skip
        return _many(database, window, conditions, buckets)

    def read(part: Callable[[Connection, _Source], T]) -> T:
        with database.read() as conn:
            without_jit(conn)
            if cut is None:
                source = _Source(experiment_id, conditions, list(buckets),
                                 list(range(len(buckets))), {}, Key(), buckets)  # fmt: skip
            else:
                source = _source(conn, experiment_id, conditions, cut, version, buckets)
            return part(conn, source)

    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="heron-overview") as pool:
        scores = pool.submit(read, _scores)
        tools = pool.submit(read, _tools)
        traces = read(_traces_of)
        return _overview(window, buckets, traces, scores.result(), tools.result())


def _many(
    database: Database,
    window: Window,
    conditions: list[Any],
    buckets: Sequence[tuple[int, int]],
) -> Overview:
    """A filter leaving many traces: the window is read in _SLICES slices of its buckets at
    once, each on a connection of its own. A slice puts the ids of the traces passing the
    filter that started in it (the first slice: or in the day before the window, whose tool
    calls may fall in it, the few-traces path's rule) in a temporary table, so the filter is
    evaluated once for each trace; it reads its buckets' traces and scores, and the tool
    calls of its traces in every bucket, by matching index ranges against that table. Every
    trace is in one slice's table, so the slices' sums add up to the window's."""
    experiment_id = int(window.experiment_id)
    every = list(range(len(buckets)))
    size = -(-len(buckets) // _SLICES)
    slices = [every[k : k + size] for k in range(0, len(buckets), size)]

    def read(mine: list[int]) -> tuple[TraceSums, ScoreSums, ToolSums]:
        start = buckets[mine[0]][0] - (DAY_MS if mine[0] == 0 else 0)
        end = buckets[mine[-1]][1]
        with database.read() as conn, passing_table(conn, experiment_id, window.filter, start,
                                                    end) as among:  # fmt: skip
            own = _Source(experiment_id, conditions, [buckets[i] for i in mine], mine, {},
                          Key(), buckets, among)  # fmt: skip
            anywhere = dataclasses.replace(own, pieces=list(buckets), owners=every)
            return _traces_of(conn, own), _scores(conn, own), _tools(conn, anywhere)

    with ThreadPoolExecutor(max_workers=_SLICES, thread_name_prefix="heron-overview") as pool:
        (traces, scores, tools), *others = pool.map(read, slices)
    for more_traces, more_scores, more_tools in others:
        traces.merge(more_traces)
        scores.merge(more_scores)
        tools.merge(more_tools)
    return _overview(window, buckets, traces, scores, tools)


def _overview(
    window: Window,
    buckets: Sequence[tuple[int, int]],
    traces: TraceSums,
    scores: ScoreSums,
    tools: ToolSums,
) -> Overview:
    filled, totals = traces.result(buckets)
    return Overview(
        start_ms=window.start_ms,
        end_ms=window.end_ms,
        buckets=filled,
        totals=dataclasses.replace(totals, start_ms=window.start_ms, end_ms=window.end_ms),
        scores=scores.result(buckets),
        tools=tools.result(buckets),
    )


# the filter clauses (field, key) the rollups are keyed by, and the Key field each fills
_KEYED = {
    ("metadata", reserved.TRACE_MODEL_ID): "model_id",
    ("metadata", reserved.SOURCE_TYPE): "environment",
    ("span", "type"): "span_type",
}


def _key_of(clauses: Sequence[TraceClause]) -> Any:
    """The rollup rows a filter reads: none, or `=` on one app version, one environment, one
    span type and one label (a tag or the user; any of the four, each at most once); else
    _RAW."""
    found: dict[str, Any] = {}
    for c in clauses:
        field = _KEYED.get((c.field, c.key))
        label = label_of(c) if field is None else None
        if label is not None:
            field = "label"
        if field is None or field in found or c.op != "=" or not isinstance(c.value, str):
            return _RAW
        found[field] = c.value if label is None else (label, c.value)
    return Key(**found)


def _source(
    conn: Connection,
    experiment_id: int,
    conditions: list[Any],
    cut: Plan,
    version: Any,
    buckets: Sequence[tuple[int, int]],
) -> _Source:
    """The plan as this transaction sees it: hours not marked (any more), or whose rows leave
    out the filter's label, are read raw."""
    have = marked(conn, experiment_id, cut.hours) - cut_hours(conn, experiment_id, cut.hours,
                                                              version)  # fmt: skip
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
) -> tuple[list[TraceBucket], TraceBucket]:
    """Each bucket's figures and the window's, from the raw rows."""
    source = _Source(experiment_id, conditions, list(buckets), list(range(len(buckets))), {},
                     Key(), buckets)  # fmt: skip
    return _traces_of(conn, source).result(buckets)


def _traces_of(conn: Connection, source: _Source) -> TraceSums:
    """Each bucket's counts, tokens, cost and durations: raw, one range of
    ix_traces_overview per piece; then the rollups' hours."""
    sums = TraceSums(source.count)
    if source.pieces:
        query = trace_buckets(
            conn.dialect.name,
            source.experiment_id,
            source.conditions,
            source.among,
        )
        for k, stats, frequency in conn.execute(query, {"buckets": bucket_list(source.pieces)}):
            found = frequency_of(frequency)
            sums.add(source.owners[k], orjson.loads(stats), list(found.counts),
                     list(found.counts.values()))  # fmt: skip
    rows = read_rollups(conn, trace_rollups, source.experiment_id, source.hours, source.version)
    for hour, *figures, durations in rows:
        sums.add(source.hours[hour], figures, *orjson.loads(durations))
    return sums


def _scores(conn: Connection, source: _Source) -> ScoreSums:
    """Each bucket's valid feedback by name (how many values read as numbers, their sum):
    raw, one range of ix_assessments_scores per piece; then the rollups' hours."""
    sums = ScoreSums()
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
                sums.add(name, source.owners[k], count, total)
    rows = read_rollups(
        conn, trace_rollup_scores, source.experiment_id, source.hours, source.version
    )
    for hour, name, count, total in rows:
        sums.add(name, source.hours[hour], count, total)
    return sums


def _tools(conn: Connection, source: _Source) -> ToolSums:
    """Each bucket's TOOL spans by name and duration (whole ms): calls, errors and the
    frequency tables of their latency; raw, one range of ix_spans_tools per piece; then the
    rollups' hours."""
    sums = ToolSums()
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
                known = value is not None
                sums.add(name, source.owners[k], count, failed, (value,) * known,
                         (count,) * known)  # fmt: skip
    rows = read_rollups(
        conn, trace_rollup_tools, source.experiment_id, source.hours, source.version
    )
    for hour, name, count, failed, durations in rows:
        sums.add(name, source.hours[hour], count, failed, *orjson.loads(durations))
    return sums
