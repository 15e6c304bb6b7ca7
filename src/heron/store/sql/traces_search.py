"""The trace search compiled to SQLAlchemy Core, paged by the same keyset tokens as runs.

Tag, metadata, span and assessment clauses are correlated EXISTS served by the (trace_id, ...)
primary keys; a span attribute clause reads the span's JSON attributes (json_extract on SQLite,
->> on PostgreSQL). MLflow's default order is request time DESC; trace_id ends every ORDER BY."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Float,
    String,
    Table,
    Text,
    cast,
    exists,
    false,
    func,
    or_,
    select,
    true,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from heron.entities import reserved
from heron.entities.assessment import AssessmentKind
from heron.errors import InvalidParameter
from heron.search import Comparison
from heron.search.traces import TraceClause, TraceOrderKey
from heron.store.sql.search_sql import (
    SearchStatement,
    SortKey,
    compare,
    experiment_keys,
    page_statement,
    query_fingerprint,
)
from heron.store.sql.tables import (
    assessments,
    spans,
    trace_metadata,
    trace_run_links,
    trace_tags,
    traces,
)
from heron.store.sql.traces_derived import MAX_INDEXED
from heron.store.traces import TraceQuery

_NUMERIC = {"timestamp_ms": "request_time", "execution_time_ms": "execution_duration"}
_STRING = {"status": "state", "client_request_id": "client_request_id", "trace_id": "trace_id"}
_SPAN_COLUMNS = {"name": "name", "type": "span_type", "status": "status"}
# Metadata the traces table keeps a copy of (0015), indexed with the experiment.
_INDEXED_METADATA = {
    reserved.TRACE_SESSION: "session_id",
    reserved.TRACE_MODEL_ID: "model_id",
    reserved.TRACE_USER: "user_id",
}
_STATUS_ALIASES = {
    "STATUS_CODE_OK": "OK",
    "STATUS_CODE_ERROR": "ERROR",
    "STATUS_CODE_UNSET": "UNSET",
}


class _JsonText(FunctionElement[str]):
    """The text of one key of a JSON column, in the connection's dialect."""

    type = String()
    inherit_cache = True


@compiles(_JsonText, "sqlite")
def _json_text_sqlite(element: _JsonText, compiler: Any, **kw: Any) -> str:
    column, key = list(element.clauses)
    path = f"'$.' || json_quote({compiler.process(key, **kw)})"
    return f"json_extract({compiler.process(column, **kw)}, {path})"


@compiles(_JsonText, "postgresql")
def _json_text_postgresql(element: _JsonText, compiler: Any, **kw: Any) -> str:
    column, key = list(element.clauses)
    return f"(CAST({compiler.process(column, **kw)} AS JSONB) ->> {compiler.process(key, **kw)})"


def trace_search(query: TraceQuery) -> SearchStatement:
    """Compiles a trace search: experiments, filter, order and page.

    Raises:
        InvalidParameter: a bad experiment id, filter value or page token.
    """
    keys: list[SortKey] = []
    seen: set[str] = set()
    one_session = _one_session(query.filter)
    for order in query.order_by:
        if order.key not in seen:
            seen.add(order.key)
            keys.append(_sort_key(order, one_session))
    if "timestamp_ms" not in seen:
        keys.append(SortKey(traces.c.request_time, False, False, True))
    conditions = [
        traces.c.experiment_id.in_(experiment_keys(query.experiment_ids)),
        *(condition(c) for c in query.filter),
    ]
    fingerprint = query_fingerprint(
        "traces", sorted(query.experiment_ids), query.filter, query.order_by
    )
    return page_statement(
        traces, traces, traces.c.trace_id, str, keys, conditions, fingerprint, query
    )


def _one_session(clauses: Sequence[TraceClause]) -> bool:
    return any(
        c.field == "metadata" and c.key == reserved.TRACE_SESSION and c.op == "=" for c in clauses
    )


def _sort_key(order: TraceOrderKey, one_session: bool = False) -> SortKey:
    if order.key in _NUMERIC:
        name = _NUMERIC[order.key]
        column: ColumnElement[Any] = traces.c[name]
        if one_session:
            # A session is a few traces: sort its range of ix_traces_session. Without the
            # `+ 0`, SQLite (which keeps no statistics here) walks the experiment's whole
            # time index in order instead, to spare that sort.
            column = column + 0
        return SortKey(column, order.ascending, name == "execution_duration", True)
    if order.key == "name":
        name_tag = (
            select(trace_tags.c.value)
            .where(
                trace_tags.c.trace_id == traces.c.trace_id, trace_tags.c.key == reserved.TRACE_NAME
            )
            .scalar_subquery()
        )
        return SortKey(name_tag, order.ascending, True, False)
    column = traces.c[_STRING[order.key]]
    return SortKey(column, order.ascending, False, False)


class _JsonNumber(FunctionElement[float]):
    """A JSON text column's value as a number when it is a JSON number, else NULL."""

    type = Float()
    inherit_cache = True


@compiles(_JsonNumber, "sqlite")
def _json_number_sqlite(element: _JsonNumber, compiler: Any, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return (
        f"(CASE WHEN json_valid({column}) AND json_type({column}) IN ('integer', 'real') "
        f"THEN CAST({column} AS REAL) END)"
    )


@compiles(_JsonNumber, "postgresql")
def _json_number_postgresql(element: _JsonNumber, compiler: Any, **kw: Any) -> str:
    column = compiler.process(next(iter(element.clauses)), **kw)
    return (
        f"(CASE WHEN jsonb_typeof(CAST({column} AS JSONB)) = 'number' "
        f"THEN CAST({column} AS DOUBLE PRECISION) END)"
    )


class _JsonListHolds(FunctionElement[bool]):
    """Whether a JSON text column holding a list of objects has one with the given name and
    version (the prompt versions a trace links)."""

    type = Boolean()
    inherit_cache = True


@compiles(_JsonListHolds, "sqlite")
def _json_list_holds_sqlite(element: _JsonListHolds, compiler: Any, **kw: Any) -> str:
    column, name, version = (compiler.process(c, **kw) for c in element.clauses)
    # The parts are compiled SQL: bound parameters and a column, never text from a request.
    return (
        f"(json_valid({column}) AND EXISTS (SELECT 1 FROM json_each({column}) AS item "  # noqa: S608
        f"WHERE json_extract(item.value, '$.name') = {name} "
        f"AND CAST(json_extract(item.value, '$.version') AS TEXT) = {version}))"
    )


@compiles(_JsonListHolds, "postgresql")
def _json_list_holds_postgresql(element: _JsonListHolds, compiler: Any, **kw: Any) -> str:
    column, name, version = (compiler.process(c, **kw) for c in element.clauses)
    return (
        f"EXISTS (SELECT 1 FROM jsonb_array_elements(CAST({column} AS JSONB)) AS item "  # noqa: S608
        f"WHERE item ->> 'name' = {name} AND item ->> 'version' = {version})"
    )


def _as_comparison(c: TraceClause, value: Any = None) -> Comparison:
    return Comparison("tag", c.key, c.op, c.value if value is None else value)


def condition(c: TraceClause) -> ColumnElement[bool]:
    """One clause of a trace filter as a condition on `traces` (the GenAI views' aggregates
    filter with it too)."""
    owner_tags = trace_tags.c.trace_id == traces.c.trace_id
    if c.field == "attribute":
        if c.key in _NUMERIC:
            return compare(
                traces.c[_NUMERIC[c.key]], Comparison("attribute", c.key, c.op, c.value), int
            )
        if c.key == "end_time_ms":
            # MLflow compat: the end is the request time plus the duration (0 when unknown).
            end = traces.c.request_time + func.coalesce(traces.c.execution_duration, 0)
            return compare(end, Comparison("attribute", c.key, c.op, c.value), int)
        if c.key == "name":
            return _pair(trace_tags, owner_tags, reserved.TRACE_NAME, c)
        if c.key == "run_id":
            owner = trace_metadata.c.trace_id == traces.c.trace_id
            logged_in = _pair(trace_metadata, owner, reserved.TRACE_SOURCE_RUN, c)
            if c.op not in ("=", "IN"):
                return logged_in
            # MLflow compat: a trace linked to the run afterwards (link-to-run) is the run's too.
            linked = exists().where(
                trace_run_links.c.trace_id == traces.c.trace_id,
                compare(trace_run_links.c.run_id, _as_comparison(c), str),
            )
            return or_(logged_in, linked)
        value = _upper(c.value) if c.key == "status" else c.value
        return compare(traces.c[_STRING[c.key]], _as_comparison(c, value), str)
    if c.field == "tag":
        return _pair(trace_tags, owner_tags, c.key, c)
    if c.field == "metadata":
        copy = _INDEXED_METADATA.get(c.key)
        if copy is not None and _indexable(c):  # the trace's own column: an index seek
            return compare(traces.c[copy], _as_comparison(c), str)
        return _pair(trace_metadata, trace_metadata.c.trace_id == traces.c.trace_id, c.key, c)
    if c.field == "span":
        value = c.value
        if c.key == "status":
            value = _upper(value, _STATUS_ALIASES)
        column = spans.c[_SPAN_COLUMNS[c.key]]
        return exists().where(
            spans.c.trace_id == traces.c.trace_id, compare(column, _as_comparison(c, value), str)
        )
    if c.field == "span_content":
        s = spans.c
        texts = (s.name, s.inputs, s.outputs, s.events, cast(s.attributes, Text()))
        return exists().where(
            spans.c.trace_id == traces.c.trace_id,
            or_(*(compare(text, _as_comparison(c), str) for text in texts)),
        )
    if c.field == "prompt":
        name, _, version = str(c.value).partition("/")
        holds = _JsonListHolds(
            trace_tags.c.value, type_coerce(name, String()), type_coerce(version, String())
        )
        return exists().where(owner_tags, trace_tags.c.key == reserved.LINKED_PROMPTS, holds)
    if c.field == "issue":
        return false()  # Heron keeps no issues (their routes are not served): none matches
    if c.field == "span_attribute":
        text = _JsonText(spans.c.attributes, type_coerce(c.key, String()))
        return exists().where(
            spans.c.trace_id == traces.c.trace_id, compare(text, _as_comparison(c), str)
        )
    if c.field in ("feedback", "expectation"):
        kind = AssessmentKind.FEEDBACK if c.field == "feedback" else AssessmentKind.EXPECTATION
        a = assessments.c
        found = exists().where(
            a.trace_id == traces.c.trace_id,
            a.kind == kind.value,
            a.name == c.key,
            a.valid.is_(True),
        )
        if c.op == "IS NULL":
            return ~found
        if c.op == "IS NOT NULL":
            return found
        if isinstance(c.value, float):  # < <= > >= a number: JSON numbers only
            number = Comparison("attribute", c.key, c.op, c.value)
            return found.where(compare(_JsonNumber(a.value), number, float))
        return found.where(compare(a.value_text, _as_comparison(c), str))
    raise InvalidParameter(f"Cannot filter traces on {c.field} {c.key!r}")


def _indexable(c: TraceClause) -> bool:
    """An equality (or IN) the copied column answers exactly as the metadata would: the
    column holds every value of at most MAX_INDEXED characters."""
    values = c.value if isinstance(c.value, tuple) else (c.value,)
    return c.op in ("=", "IN") and all(isinstance(v, str) and len(v) <= MAX_INDEXED for v in values)


def key_value_of(c: TraceClause) -> tuple[Table, str] | None:
    """The key-value table (trace_tags or trace_metadata) and key of a clause that `condition`
    reads as one key's row there (`_pair`), None for any other clause."""
    if c.field == "tag" or (c.field == "attribute" and c.key == "name"):
        return trace_tags, reserved.TRACE_NAME if c.field == "attribute" else c.key
    if c.field == "metadata" and not (c.key in _INDEXED_METADATA and _indexable(c)):
        return trace_metadata, c.key
    return None


def pair_value(table: Table, c: TraceClause) -> ColumnElement[bool]:
    """The comparison of a key-value clause on the value column of `table` (or an alias of
    it); true for IS NOT NULL (the key present). Not for IS NULL (the key absent)."""
    if c.op == "IS NOT NULL":
        return true()
    return compare(table.c.value, _as_comparison(c), str)


def _pair(table: Any, owner: ColumnElement[bool], key: str, c: TraceClause) -> ColumnElement[bool]:
    """A key-value clause: IS NULL means the key is absent, anything else needs it present."""
    has_key = exists().where(owner, table.c.key == key)
    if c.op == "IS NULL":
        return ~has_key
    if c.op == "IS NOT NULL":
        return has_key
    return has_key.where(pair_value(table, c))


def _upper(value: Any, aliases: dict[str, str] | None = None) -> Any:
    def one(v: str) -> str:
        v = v.upper()
        return (aliases or {}).get(v, v)

    if isinstance(value, tuple):
        return tuple(one(v) for v in value)
    return one(value) if isinstance(value, str) else value
