"""The rollup rows of some hours, read from the raw rows (trace_rollups.py writes them): by
app version, environment (the trace's metadata mlflow.source.type), span type ('' for every
trace and each span type for the traces holding one) and label ('' for every trace, and each
of trace_rollups_labels' labels for the traces holding it).

The keys of each trace are looked up once for all the hours built together (`trace_keys`: a
temporary table of the build's transaction, one row a trace, its span types as one JSON
array), its labels too (trace_rollups_labels). Each part (traces, scores, tool calls) is then
two grouped reads of its raw rows in those hours matched against those tables, its groups
keyed by the set of span types (and by label in the second); the rows of each span type are
those groups added up here (`_Spread`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    MetaData,
    String,
    Table,
    Text,
    and_,
    cast,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    text,
    union,
)

from heron.entities import reserved
from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import TOOL_SPAN_TYPE
from heron.store.sql.tables import assessments, spans, trace_metadata, traces
from heron.store.sql.trace_analytics_sql import errors_of, json_agg
from heron.store.sql.trace_rollups_labels import EVERY_TRACE

HOUR_MS = 3_600_000
EVERY = ""  # the span_type of the rows that count every trace
_HOUR: ColumnElement[int] = literal_column(str(HOUR_MS))
_NS: ColumnElement[int] = literal_column("1000000")
# Each trace a build reads (started in its hours, or whose feedback or TOOL spans are in
# them): the hour it started in, its app version, environment and the span types it holds
# (a JSON array).
_KEYS = Table(
    "heron_rollup_keys",
    MetaData(),
    Column("trace_id", String(50), primary_key=True),
    Column("hour_ms", BigInteger),
    Column("model_id", String(250)),
    Column("environment", Text),
    Column("kinds", Text),
    prefixes=["TEMPORARY"],
    sqlite_with_rowid=False,
)


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


def _trace_where(experiment_id: int, hours: Sequence[int]) -> list[Any]:
    t = traces.c
    return [t.experiment_id == experiment_id, within(t.request_time, hours)]


def _score_where(experiment_id: int, hours: Sequence[int]) -> list[Any]:
    a = assessments.c
    return [
        a.experiment_id == experiment_id,
        within(a.trace_time, hours),
        a.kind == literal_column(f"'{AssessmentKind.FEEDBACK.value}'"),
        a.valid.is_(True),
    ]


def _tool_where(experiment_id: int, hours: Sequence[int]) -> list[Any]:
    s = spans.c
    return [
        s.experiment_id == experiment_id,
        s.span_type == literal_column(f"'{TOOL_SPAN_TYPE}'"),
        within(s.start_time_ns, hours, scale=True),
    ]


def _agg(dialect: str, value: Any) -> Any:
    """The group's values as one JSON array, as text."""
    return cast(json_agg(dialect, value), Text())


def _keys_of(dialect: str, trace_id: Any) -> list[Any]:
    """The trace's app version, environment and span types, for the ids in `trace_id`."""
    env = trace_metadata.alias("env")
    kind = spans.alias("kind").c
    kinds = select(_agg(dialect, kind.span_type.distinct())).where(kind.trace_id == trace_id)
    environment = select(env.c.value).where(
        env.c.trace_id == trace_id, env.c.key == reserved.SOURCE_TYPE
    )
    return [environment.scalar_subquery(), kinds.scalar_subquery()]


@contextmanager
def trace_keys(conn: Connection, experiment_id: int, hours: Sequence[int]) -> Iterator[Table]:
    """The keys of every trace whose rows the hours' rollups count, looked up once. Dropped
    after use (on an error, the write's rollback drops it)."""
    t, a, s, k = traces.c, assessments.c, spans.c, _KEYS.c
    dialect = conn.dialect.name
    names = ["trace_id", "hour_ms", "model_id", "environment", "kinds"]
    hour = t.request_time // _HOUR * _HOUR
    started = select(t.trace_id, hour, t.model_id, *_keys_of(dialect, t.trace_id)).where(
        *_trace_where(experiment_id, hours)
    )
    # feedback and TOOL spans of traces that did not start in the hours (late, or none)
    others = union(
        select(a.trace_id).where(*_score_where(experiment_id, hours)),
        select(s.trace_id).where(*_tool_where(experiment_id, hours)),
    ).subquery("others")
    own = traces.alias("own")
    late = (
        select(others.c.trace_id, own.c.request_time // _HOUR * _HOUR, own.c.model_id,
               *_keys_of(dialect, others.c.trace_id))
        .join_from(others, own, own.c.trace_id == others.c.trace_id, isouter=True)
        .where(~exists().where(k.trace_id == others.c.trace_id))
    )  # fmt: skip
    _KEYS.create(conn)
    conn.execute(insert(_KEYS).from_select(names, started))
    conn.execute(insert(_KEYS).from_select(names, late))
    if dialect == "postgresql":  # a temporary table has no statistics until then
        conn.execute(text(f"ANALYZE {_KEYS.name}"))
    yield _KEYS
    _KEYS.drop(conn)


class _Spread:
    """Figures of groups keyed by (hour, app version, environment, span types held, label
    key and value, ...), added up into the rollup rows: each group once with span type EVERY
    and once for each type it holds; a label cut in its hour is left out. The figures are
    numbers, then optionally durations (a Counter)."""

    def __init__(self, width: int, cuts: set[tuple[int, str]]) -> None:
        self.width = width
        self.cuts = cuts
        self.rows: dict[tuple[Any, ...], list[Any]] = {}
        self.kinds: dict[str | None, list[str]] = {}

    def add(self, key: tuple[Any, ...], figures: Sequence[Any], durations: Any = None) -> None:
        h, model_id, environment, kinds, *rest = key
        if rest[0] != EVERY_TRACE and (int(h), rest[0]) in self.cuts:
            return
        held = self.kinds.get(kinds)
        if held is None:
            held = self.kinds[kinds] = [EVERY, *(k for k in orjson.loads(kinds or "[]") if k)]
        for kind in held:
            total = self.rows.get(at := (int(h), model_id, environment, kind, *rest))
            if total is None:
                total = self.rows[at] = [0] * self.width + [Counter()]
            for i, value in enumerate(figures):
                total[i] += value or 0
            if durations is not None:
                total[-1].update(durations)

    def result(self, experiment_id: int, names: Sequence[str]) -> list[dict[str, Any]]:
        """The rollup rows: the figures under `names`, and the durations' frequency table
        (JSON [[ms, ...], [count, ...]]) under "durations" if `names` has one more."""
        found = []
        for key, (*figures, durations) in self.rows.items():
            row = _key(experiment_id, key) | dict(zip(names, figures, strict=False))
            if len(names) > self.width:
                table = [list(durations), list(durations.values())]
                row["durations"] = orjson.dumps(table).decode()
            found.append(row)
        return found


def _key(experiment_id: int, key: tuple[Any, ...]) -> dict[str, Any]:
    h, model_id, environment, kind, label_key, label_value, *name = key
    found = {"experiment_id": experiment_id, "hour_ms": h, "model_id": model_id,
             "environment": environment, "span_type": kind, "label_key": label_key,
             "label_value": label_value}  # fmt: skip
    return found | ({"name": name[0]} if name else {})


def _counted(values: str | None) -> Counter[int]:
    """The durations a group's JSON array holds, NULL ones left out, with their counts."""
    return Counter(int(v) for v in orjson.loads(values or "[]") if v is not None)


def _groups(conn: Connection, query: Any, trace_id: Any, labels: Table) -> Iterator[Any]:
    """The rows of the grouped `query`, each followed by its label: those of every trace
    (label EVERY_TRACE), then the query's groups split by label."""
    for row in conn.execute(query):
        yield (*row, EVERY_TRACE, "")
    c = labels.c
    split = (
        query.join(labels, c.trace_id == trace_id)
        .add_columns(c.label_key, c.label_value)
        .group_by(c.label_key, c.label_value)
    )
    yield from conn.execute(split)


def trace_rows(conn: Connection, experiment_id: int, hours: Sequence[int], keys: Table,
               labels: Table, cuts: set[tuple[int, str]]) -> list[Any]:  # fmt: skip
    t, k = traces.c, keys.c
    hour = (t.request_time // _HOUR * _HOUR).label("h")
    by = (hour, t.model_id, k.environment, k.kinds)
    query: Any = (
        select(
            *by, func.count(), errors_of(t.state), func.sum(t.input_tokens),
            func.sum(t.output_tokens), func.sum(t.total_tokens), func.sum(t.total_cost),
            _agg(conn.dialect.name, t.execution_duration),
        )
        .join_from(traces, keys, k.trace_id == t.trace_id)
        .where(*_trace_where(experiment_id, hours))
        .group_by(*by)
    )  # fmt: skip
    spread = _Spread(6, cuts)
    for h, m, env, kinds, *figures, durations, label, value in _groups(conn, query, t.trace_id,
                                                                       labels):  # fmt: skip
        spread.add((h, m, env, kinds, label, value), figures, _counted(durations))
    names = ("traces", "errors", "input_tokens", "output_tokens", "total_tokens", "cost",
             "durations")  # fmt: skip
    return spread.result(experiment_id, names)


def score_rows(conn: Connection, experiment_id: int, hours: Sequence[int], keys: Table,
               labels: Table, cuts: set[tuple[int, str]]) -> list[Any]:  # fmt: skip
    a, k = assessments.c, keys.c
    hour = (a.trace_time // _HOUR * _HOUR).label("h")
    by = (hour, a.model_id, k.environment, k.kinds, a.name)
    query: Any = (
        select(*by, func.count(a.score), func.sum(a.score))
        .join_from(assessments, keys, k.trace_id == a.trace_id)
        .where(*_score_where(experiment_id, hours))
        .group_by(*by)
    )
    spread = _Spread(2, cuts)
    for h, m, env, kinds, name, n, total, label, value in _groups(conn, query, a.trace_id,
                                                                  labels):  # fmt: skip
        spread.add((h, m, env, kinds, label, value, name), (n, total))
    return spread.result(experiment_id, ("n", "total"))


def tool_rows(conn: Connection, experiment_id: int, hours: Sequence[int], keys: Table,
              labels: Table, cuts: set[tuple[int, str]]) -> list[Any]:  # fmt: skip
    s, k = spans.c, keys.c
    hour = (s.start_time_ns // _NS // _HOUR * _HOUR).label("h")
    d = (s.end_time_ns - s.start_time_ns).self_group().op("/")(_NS)
    by = (hour, k.model_id, k.environment, k.kinds, s.name)
    query: Any = (
        select(*by, func.count(), errors_of(s.status), _agg(conn.dialect.name, d))
        .join_from(spans, keys, k.trace_id == s.trace_id)
        .where(*_tool_where(experiment_id, hours))
        .group_by(*by)
    )
    spread = _Spread(2, cuts)
    for h, m, env, kinds, name, calls, errors, durations, label, value in _groups(
        conn, query, s.trace_id, labels
    ):
        spread.add((h, m, env, kinds, label, value, name), (calls, errors), _counted(durations))
    return spread.result(experiment_id, ("calls", "errors", "durations"))
