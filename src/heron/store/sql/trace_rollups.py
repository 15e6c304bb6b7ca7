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
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    delete,
    literal_column,
    select,
    text,
)

from heron.store.sql.database import Database, insert_for
from heron.store.sql.tables_rollups import (
    trace_rollup_cuts,
    trace_rollup_hours,
    trace_rollup_scores,
    trace_rollup_tools,
    trace_rollups,
)
from heron.store.sql.trace_rollups_build import (
    EVERY,
    score_rows,
    tool_rows,
    trace_keys,
    trace_rows,
    trace_where,
)
from heron.store.sql.trace_rollups_labels import EVERY_TRACE, cut_rows, cut_tags

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
    for table in (trace_rollups, trace_rollup_scores, trace_rollup_tools, trace_rollup_cuts):
        conn.execute(
            delete(table).where(table.c.experiment_id == experiment_id, table.c.hour_ms.in_(hours))
        )
    cut = cut_tags(conn, trace_where(experiment_id, hours))
    with trace_keys(conn, experiment_id, hours, cut) as keys:
        rows = (
            (trace_rollups, trace_rows(conn, experiment_id, hours, keys)),
            (trace_rollup_scores, score_rows(conn, experiment_id, hours, keys)),
            (trace_rollup_tools, tool_rows(conn, experiment_id, hours, keys)),
            (trace_rollup_cuts, cut_rows(experiment_id, hours, cut)),
        )
    for table, found in rows:
        if found:
            conn.execute(table.insert(), found)
    marks = [{"experiment_id": experiment_id, "hour_ms": h} for h in hours]
    conn.execute(insert_for(conn, trace_rollup_hours).on_conflict_do_nothing(), marks)


@dataclasses.dataclass(frozen=True, slots=True)
class Key:
    """The rollup rows a filter reads: of one app version, environment, span type and label
    (key and value), each None for any (span type and label: every trace)."""

    model_id: str | None = None
    environment: str | None = None
    span_type: str | None = None
    label: tuple[str, str] | None = None


def cut_hours(conn: Connection, experiment_id: int, hours: Iterable[int], key: Key) -> set[int]:
    """The hours whose rows leave out the label `key` reads (trace_rollup_cuts)."""
    wanted = sorted(hours)
    if key.label is None or not wanted:
        return set()
    c = trace_rollup_cuts.c
    query = select(c.hour_ms).where(
        c.experiment_id == experiment_id,
        c.label_key == key.label[0],
        c.hour_ms >= wanted[0],
        c.hour_ms <= wanted[-1],
    )
    return {row[0] for row in conn.execute(query)}


def read(
    conn: Connection, table: Any, experiment_id: int, hours: Iterable[int], key: Key
) -> list[Any]:
    """The rollup rows of `table` for `hours` (marked ones: a build replaces an hour's rows
    in one transaction) that `key` selects, each with its hour first."""
    wanted = set(hours)
    if not wanted:
        return []
    c = table.c
    keys = ("experiment_id", "model_id", "environment", "span_type", "label_key", "label_value")
    columns = [col for col in c if col.name not in keys]
    label_key, label_value = key.label or (EVERY_TRACE, "")
    query = select(*columns).where(
        c.experiment_id == experiment_id,
        c.label_key == label_key,
        c.label_value == label_value,
        c.span_type == (EVERY if key.span_type is None else key.span_type),
        c.hour_ms >= min(wanted),
        c.hour_ms <= max(wanted),
    )
    if key.model_id is not None:
        query = query.where(c.model_id == key.model_id)
    if key.environment is not None:
        query = query.where(c.environment == key.environment)
    return [row for row in conn.execute(query) if row[0] in wanted]
