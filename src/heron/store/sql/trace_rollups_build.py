"""The rollup rows of some hours, read from the raw rows (trace_rollups.py writes them): by
app version, environment (the trace's metadata mlflow.source.type), span type ('' for every
trace and each span type for the traces holding one) and label ('' for every trace and each
tag for the traces holding it, trace_rollups_labels.py).

The keys of each trace are looked up once for all the hours built together (`trace_keys`: a
temporary table of the build's transaction, one row a trace, its span types and its tags as
JSON arrays). Each part (traces, scores, tool calls) is then one grouped read of its raw rows
in those hours matched against that table, its groups keyed by the sets of span types and
tags; the rows of each span type and label are those groups added up here (`_Spread`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import (
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
from heron.store.sql.trace_rollups_labels import labelled, labels_of

HOUR_MS = 3_600_000
EVERY = ""  # the span_type of the rows that count every trace
_HOUR: ColumnElement[int] = literal_column(str(HOUR_MS))
_NS: ColumnElement[int] = literal_column("1000000")
# Each trace a build reads (started in its hours, or whose feedback or TOOL spans are in
# them): its app version, environment, the span types it holds and its tags (JSON arrays).
_KEYS = Table(
    "heron_rollup_keys",
    MetaData(),
    Column("trace_id", String(50), primary_key=True),
    Column("model_id", String(250)),
    Column("environment", Text),
    Column("kinds", Text),
    Column("labels", Text),
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


def trace_where(experiment_id: int, hours: Sequence[int]) -> list[Any]:
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


def _keys_of(dialect: str, trace_id: Any, cut: Sequence[str]) -> list[Any]:
    """The trace's environment, span types and tags (but those `cut`), for the ids in
    `trace_id`."""
    env = trace_metadata.alias("env")
    kind = spans.alias("kind").c
    kinds = select(_agg(dialect, kind.span_type.distinct())).where(kind.trace_id == trace_id)
    environment = select(env.c.value).where(
        env.c.trace_id == trace_id, env.c.key == reserved.SOURCE_TYPE
    )
    return [
        environment.scalar_subquery(),
        kinds.scalar_subquery(),
        labels_of(dialect, trace_id, cut),
    ]


@contextmanager
def trace_keys(
    conn: Connection, experiment_id: int, hours: Sequence[int], cut: Sequence[str]
) -> Iterator[Table]:
    """The keys of every trace whose rows the hours' rollups count, looked up once. Dropped
    after use (on an error, the write's rollback drops it)."""
    t, a, s, k = traces.c, assessments.c, spans.c, _KEYS.c
    dialect = conn.dialect.name
    names = ["trace_id", "model_id", "environment", "kinds", "labels"]
    started = select(t.trace_id, t.model_id, *_keys_of(dialect, t.trace_id, cut)).where(
        *trace_where(experiment_id, hours)
    )
    # feedback and TOOL spans of traces that did not start in the hours (late, or none)
    others = union(
        select(a.trace_id).where(*_score_where(experiment_id, hours)),
        select(s.trace_id).where(*_tool_where(experiment_id, hours)),
    ).subquery("others")
    model = select(t.model_id).where(t.trace_id == others.c.trace_id).scalar_subquery()
    late = select(others.c.trace_id, model, *_keys_of(dialect, others.c.trace_id, cut)).where(
        ~exists().where(k.trace_id == others.c.trace_id)
    )
    _KEYS.create(conn)
    conn.execute(insert(_KEYS).from_select(names, started))
    conn.execute(insert(_KEYS).from_select(names, late))
    if dialect == "postgresql":  # a temporary table has no statistics until then
        conn.execute(text(f"ANALYZE {_KEYS.name}"))
    yield _KEYS
    _KEYS.drop(conn)


class _Spread:
    """Figures of groups keyed by (hour, app version, environment, span types held, tags
    held, ...), added up into the rollup rows: each group once for every span type and label
    it counts under (EVERY and each type it holds, times every trace's label and each of its
    tags). The figures are numbers, then optionally durations (a Counter)."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.rows: dict[tuple[Any, ...], list[Any]] = {}
        self.kinds: dict[str | None, list[str]] = {}
        self.labels: dict[str | None, list[tuple[str, str]]] = {}

    def add(self, key: tuple[Any, ...], figures: Sequence[Any], durations: Any = None) -> None:
        h, model_id, environment, kinds, tags, *rest = key
        held = self.kinds.get(kinds)
        if held is None:
            held = self.kinds[kinds] = [EVERY, *(k for k in orjson.loads(kinds or "[]") if k)]
        labels = self.labels.get(tags)
        if labels is None:
            labels = self.labels[tags] = labelled(orjson.loads(tags or "[]"))
        for kind in held:
            for label in labels:
                at = (int(h), model_id, environment, kind, *label, *rest)
                total = self.rows.get(at)
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


def trace_rows(
    conn: Connection, experiment_id: int, hours: Sequence[int], keys: Table
) -> list[Any]:
    t, k = traces.c, keys.c
    hour = (t.request_time // _HOUR * _HOUR).label("h")
    by = (hour, t.model_id, k.environment, k.kinds, k.labels)
    query: Any = (
        select(
            *by, func.count(), errors_of(t.state), func.sum(t.input_tokens),
            func.sum(t.output_tokens), func.sum(t.total_tokens), func.sum(t.total_cost),
            _agg(conn.dialect.name, t.execution_duration),
        )
        .join_from(traces, keys, k.trace_id == t.trace_id)
        .where(*trace_where(experiment_id, hours))
        .group_by(*by)
    )  # fmt: skip
    spread = _Spread(6)
    for h, m, env, kinds, tags, *figures, durations in conn.execute(query):
        spread.add((h, m, env, kinds, tags), figures, _counted(durations))
    names = ("traces", "errors", "input_tokens", "output_tokens", "total_tokens", "cost",
             "durations")  # fmt: skip
    return spread.result(experiment_id, names)


def score_rows(
    conn: Connection, experiment_id: int, hours: Sequence[int], keys: Table
) -> list[Any]:
    a, k = assessments.c, keys.c
    hour = (a.trace_time // _HOUR * _HOUR).label("h")
    by = (hour, a.model_id, k.environment, k.kinds, k.labels, a.name)
    query: Any = (
        select(*by, func.count(a.score), func.sum(a.score))
        .join_from(assessments, keys, k.trace_id == a.trace_id)
        .where(*_score_where(experiment_id, hours))
        .group_by(*by)
    )
    spread = _Spread(2)
    for h, m, env, kinds, tags, name, *figures in conn.execute(query):
        spread.add((h, m, env, kinds, tags, name), figures)
    return spread.result(experiment_id, ("n", "total"))


def tool_rows(conn: Connection, experiment_id: int, hours: Sequence[int], keys: Table) -> list[Any]:
    s, k = spans.c, keys.c
    hour = (s.start_time_ns // _NS // _HOUR * _HOUR).label("h")
    d = (s.end_time_ns - s.start_time_ns).self_group().op("/")(_NS)
    by = (hour, k.model_id, k.environment, k.kinds, k.labels, s.name)
    query: Any = (
        select(*by, func.count(), errors_of(s.status), _agg(conn.dialect.name, d))
        .join_from(spans, keys, k.trace_id == s.trace_id)
        .where(*_tool_where(experiment_id, hours))
        .group_by(*by)
    )
    spread = _Spread(2)
    for h, m, env, kinds, tags, name, calls, errors, durations in conn.execute(query):
        spread.add((h, m, env, kinds, tags, name), (calls, errors), _counted(durations))
    return spread.result(experiment_id, ("calls", "errors", "durations"))
