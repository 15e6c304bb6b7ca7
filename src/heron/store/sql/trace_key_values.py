"""The traces of a window that pass a filter, as one statement PostgreSQL plans as a set: each
tag or metadata clause is the index range of its key (and value) in ix_trace_tags_values or
ix_trace_metadata_values (migration 0032), joined to the window's traces, instead of a probe
of each trace's rows. Other clauses, and every clause on SQLite, stay conditions on each trace
(traces_search.condition)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, func, literal_column, select, union_all

from heron.search.traces import TraceClause
from heron.store.sql.tables import SHORT_VALUE, traces
from heron.store.sql.traces_search import condition, key_value_of, pair_value

# the partial indexes' own words, so that PostgreSQL sees the query implies them
_SHORT: ColumnElement[int] = literal_column(str(SHORT_VALUE))


def passing_traces(
    dialect: str,
    experiment_id: int,
    clauses: Sequence[TraceClause],
    start_ms: int,
    end_ms: int,
) -> Select[Any]:
    """The ids of the traces started in [start_ms, end_ms) that pass every clause."""
    t = traces.c
    joined: Any = traces
    rest = []
    for c in clauses:
        found = key_value_of(c) if dialect == "postgresql" and c.op != "IS NULL" else None
        if found is None:
            rest.append(condition(c))
            continue
        # A trace has at most one row of a key: joined, each passing trace comes once.
        ids = _matching(*found, c).subquery()
        joined = joined.join(ids, ids.c.trace_id == t.trace_id)
    return (
        select(t.trace_id)
        .select_from(joined)
        .where(
            t.experiment_id == experiment_id, t.request_time >= start_ms,
            t.request_time < end_ms, *rest,
        )
    )  # fmt: skip


def _matching(table: Table, key: str, c: TraceClause) -> Any:
    """The trace ids of the rows of `key` whose value passes `c`: the values of at most
    SHORT_VALUE characters from their index alone, the longer ones by key and trace id."""
    v = table.c
    length = func.length(v.value)
    test = pair_value(table, c)
    return union_all(
        select(v.trace_id).where(v.key == key, length <= _SHORT, test),
        select(v.trace_id).where(v.key == key, length > _SHORT, test),
    )
