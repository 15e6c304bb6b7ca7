"""The overview's hourly rollups (tables_rollups.py): which whole hours of a window they can
answer, building the hours not marked yet from the raw rows, and reading the marked ones.

An hour is built in one write transaction that reads its raw rows and marks it; triggers
drop the mark in any transaction that writes a trace, TOOL span or assessment of the hour.
On PostgreSQL both take the experiment's advisory lock (builders exclusive, writers shared),
so a build never marks an hour whose rows a concurrent writer changed unseen. Only hours that
have ended are built; the hour in progress and a window's partial hours are read raw."""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    func,
    literal_column,
    or_,
    select,
    text,
)

from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import TOOL_SPAN_TYPE
from heron.store.sql.database import Database, insert_for
from heron.store.sql.tables import assessments, spans, traces
from heron.store.sql.tables_rollups import (
    trace_rollup_hours,
    trace_rollup_scores,
    trace_rollup_tools,
    trace_rollups,
)
from heron.store.sql.trace_analytics_sql import errors_of

HOUR_MS = 3_600_000
LOCK = 728_001  # migration 0025's advisory lock key
BUILD_HOURS = 48  # hours built in one write transaction (a first build of a month: 15 of them)
_HOUR: ColumnElement[int] = literal_column(str(HOUR_MS))
_NS: ColumnElement[int] = literal_column("1000000")


@dataclasses.dataclass(slots=True)
class Plan:
    """A window's buckets split into whole ended hours (read from rollups) and the rest
    (`pieces`, read raw); each maps to the index of its bucket."""

    hours: dict[int, int]
    pieces: list[tuple[int, int]]
    piece_buckets: list[int]


def plan(buckets: Sequence[tuple[int, int]], now_ms: int) -> Plan:
    found = Plan({}, [], [])

    def raw(lo: int, hi: int, i: int) -> None:
        found.pieces.append((lo, hi))
        found.piece_buckets.append(i)

    for i, (lo, hi) in enumerate(buckets):
        first = -(-lo // HOUR_MS) * HOUR_MS
        last = min(hi, now_ms) // HOUR_MS * HOUR_MS
        if last <= first:
            raw(lo, hi, i)
            continue
        if lo < first:
            raw(lo, first, i)
        for hour in range(first, last, HOUR_MS):
            found.hours[hour] = i
        if last < hi:
            raw(last, hi, i)
    return found


def marked(conn: Connection, experiment_id: int, hours: Iterable[int]) -> set[int]:
    wanted = sorted(hours)
    if not wanted:
        return set()
    h = trace_rollup_hours.c
    query = select(h.hour_ms).where(
        h.experiment_id == experiment_id, h.hour_ms >= wanted[0], h.hour_ms <= wanted[-1]
    )
    return {row[0] for row in conn.execute(query)} & set(wanted)


def ensure(database: Database, experiment_id: int, hours: Iterable[int]) -> None:
    """Builds the hours not marked yet, BUILD_HOURS to a transaction."""
    wanted = set(hours)
    with database.read() as conn:
        missing = sorted(wanted - marked(conn, experiment_id, wanted))
    for at in range(0, len(missing), BUILD_HOURS):
        database.write(functools.partial(build, experiment_id=experiment_id,
                                         hours=missing[at : at + BUILD_HOURS]))  # fmt: skip


def build(conn: Connection, experiment_id: int, hours: Sequence[int]) -> None:
    """Rebuilds the rollup rows of `hours` from the raw rows and marks them."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:k, :e)"), {"k": LOCK, "e": experiment_id})
    hours = sorted(set(hours) - marked(conn, experiment_id, hours))
    if not hours:
        return
    for table in (trace_rollups, trace_rollup_scores, trace_rollup_tools):
        conn.execute(
            delete(table).where(table.c.experiment_id == experiment_id, table.c.hour_ms.in_(hours))
        )
    rows = (
        (trace_rollups, _trace_rows(conn, experiment_id, hours)),
        (trace_rollup_scores, _score_rows(conn, experiment_id, hours)),
        (trace_rollup_tools, _tool_rows(conn, experiment_id, hours)),
    )
    for table, found in rows:
        if found:
            conn.execute(table.insert(), found)
    marks = [{"experiment_id": experiment_id, "hour_ms": h} for h in hours]
    conn.execute(insert_for(conn, trace_rollup_hours).on_conflict_do_nothing(), marks)


def _within(column: Any, hours: Sequence[int], scale: Any = None) -> Any:
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


def _trace_rows(conn: Connection, experiment_id: int, hours: Sequence[int]) -> list[Any]:
    t = traces.c
    hour = (t.request_time // _HOUR * _HOUR).label("h")
    query = (
        select(
            hour, t.model_id, t.execution_duration, func.count(), errors_of(t.state),
            func.coalesce(func.sum(t.input_tokens), 0), func.coalesce(func.sum(t.output_tokens), 0),
            func.coalesce(func.sum(t.total_tokens), 0), func.coalesce(func.sum(t.total_cost), 0),
        )
        .where(t.experiment_id == experiment_id, _within(t.request_time, hours))
        .group_by(hour, t.model_id, t.execution_duration)
    )  # fmt: skip
    sums: dict[tuple[int, str | None], list[Any]] = {}
    durations: dict[tuple[int, str | None], dict[int, int]] = defaultdict(dict)
    for h, model_id, d, *figures in conn.execute(query):
        key = (int(h), model_id)
        total = sums.setdefault(key, [0, 0, 0, 0, 0, 0.0])
        for k, value in enumerate(figures):
            total[k] += value
        if d is not None:
            durations[key][int(d)] = int(figures[0])
    names = ("traces", "errors", "input_tokens", "output_tokens", "total_tokens", "cost")
    return [
        {"experiment_id": experiment_id, "hour_ms": h, "model_id": m,
         **dict(zip(names, total, strict=True)), "durations": _frequency(durations[(h, m)])}
        for (h, m), total in sums.items()
    ]  # fmt: skip


def _score_rows(conn: Connection, experiment_id: int, hours: Sequence[int]) -> list[Any]:
    a = assessments.c
    hour = (a.trace_time // _HOUR * _HOUR).label("h")
    query = (
        select(hour, a.model_id, a.name, func.count(a.score), func.sum(a.score))
        .where(
            a.experiment_id == experiment_id,
            _within(a.trace_time, hours),
            a.kind == literal_column(f"'{AssessmentKind.FEEDBACK.value}'"),
            a.valid.is_(True),
        )
        .group_by(hour, a.model_id, a.name)
    )
    return [
        {"experiment_id": experiment_id, "hour_ms": int(h), "model_id": m, "name": name,
         "n": n, "total": total or 0.0}
        for h, m, name, n, total in conn.execute(query)
    ]  # fmt: skip


def _tool_rows(conn: Connection, experiment_id: int, hours: Sequence[int]) -> list[Any]:
    s, t = spans.c, traces.c
    hour = (s.start_time_ns // _NS // _HOUR * _HOUR).label("h")
    d = (s.end_time_ns - s.start_time_ns).self_group().op("/")(_NS).label("d")
    query = (
        select(hour, t.model_id, s.name, d, func.count(), errors_of(s.status))
        .select_from(spans.outerjoin(traces, t.trace_id == s.trace_id))
        .where(
            s.experiment_id == experiment_id,
            s.span_type == literal_column(f"'{TOOL_SPAN_TYPE}'"),
            _within(s.start_time_ns, hours, scale=True),
        )
        .group_by(hour, t.model_id, s.name, d)
    )
    sums: dict[tuple[int, str | None, str], list[int]] = {}
    durations: dict[tuple[int, str | None, str], dict[int, int]] = defaultdict(dict)
    for h, model_id, name, ms, calls, errors in conn.execute(query):
        key = (int(h), model_id, name)
        total = sums.setdefault(key, [0, 0])
        total[0] += calls
        total[1] += errors
        if ms is not None:
            durations[key][int(ms)] = int(calls)
    return [
        {"experiment_id": experiment_id, "hour_ms": h, "model_id": m, "name": name,
         "calls": calls, "errors": errors, "durations": _frequency(durations[(h, m, name)])}
        for (h, m, name), (calls, errors) in sums.items()
    ]  # fmt: skip


def read(
    conn: Connection, table: Any, experiment_id: int, hours: Iterable[int], model_id: str | None
) -> list[Any]:
    """The rollup rows of `table` for `hours` (marked ones: a build replaces an hour's rows
    in one transaction), optionally of one app version, each with its hour first."""
    wanted = set(hours)
    if not wanted:
        return []
    c = table.c
    columns = [col for col in c if col.name not in ("experiment_id", "model_id")]
    query = select(*columns).where(
        c.experiment_id == experiment_id, c.hour_ms >= min(wanted), c.hour_ms <= max(wanted)
    )
    if model_id is not None:
        query = query.where(c.model_id == model_id)
    return [row for row in conn.execute(query) if row[0] in wanted]
