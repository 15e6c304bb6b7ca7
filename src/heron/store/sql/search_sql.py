"""Run and experiment searches compiled to SQLAlchemy Core, paged by opaque keyset tokens.

Filters on params, tags and datasets become correlated EXISTS subqueries (the (run_uuid, key)
primary keys serve them); a metric filter becomes `run_uuid IN (the runs of these experiments
whose latest value passes)`, read from the (experiment_id, key, is_nan, value) index of
latest_metrics. Order keys on params, tags and later metrics become LEFT OUTER JOINs, one alias
per key. A row missing an order key (or whose latest metric value is NaN) sorts last in both
directions. The primary key ends every ORDER BY, so the order is total and a page token can
name the exact row a page ended on: the next page starts strictly after it, whatever ties there
are on the other keys.

When the first order key is a metric, the search is two statements run one after the other:
the runs with a value for it, joined in the order of that index (so a page reads about as many
index entries as it shows, even with 100,000 runs in the experiment), then, only when those run
out, the runs without one. A single LEFT JOIN would have to read and sort every run first.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Connection,
    FromClause,
    Select,
    Table,
    and_,
    case,
    exists,
    false,
    func,
    null,
    or_,
    select,
    true,
)
from sqlalchemy.sql.elements import Null

from heron.entities import ViewType
from heron.errors import InvalidParameter
from heron.search import Comparison, OrderKey, Value
from heron.store.experiments import ExperimentQuery
from heron.store.runs import RunQuery
from heron.store.sql import tables as t
from heron.store.sql.database import plain_rows

_MAX_TOKEN_CHARS = 8192
_DATASET_CONTEXT_TAG = "mlflow.data.context"
_RUN_COLUMNS = {
    "run_id": "run_uuid",
    "run_name": "name",
    "status": "status",
    "user_id": "user_id",
    "artifact_uri": "artifact_uri",
    "lifecycle_stage": "lifecycle_stage",
    "start_time": "start_time",
    "end_time": "end_time",
}
_EXPERIMENT_COLUMNS = ("name", "experiment_id", "creation_time", "last_update_time")


class PagedQuery(Protocol):
    """What `_statement` reads of a query besides its compiled parts."""

    @property
    def max_results(self) -> int: ...

    @property
    def page_token(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class _SortKey:
    expr: ColumnElement[Any]
    ascending: bool
    nullable: bool
    numeric: bool


@dataclass(frozen=True, slots=True)
class SearchStatement:
    """A compiled search: run `select`, then build the next page's token from its rows.

    `select` returns every column of the searched table plus the sort keys labelled sk0..skN,
    at most max_results + 1 rows: when more than max_results come back, the page is full and
    `next_token(rows[max_results - 1])` is the token of the page after it. `then`, when set,
    returns the rows that sort after every row of `select` (runs without the leading metric):
    `rows` runs it only when `select` did not fill the page."""

    select: Select[Any]
    sort_keys: int
    primary_key: str
    fingerprint: str
    then: Select[Any] | None = None

    def rows(self, conn: Connection, max_results: int) -> list[Any]:
        """The page's rows (at most max_results + 1, plain tuples), from `select` and then
        `then`."""
        rows = plain_rows(conn, self.select)
        if self.then is not None and len(rows) <= max_results:
            rows += plain_rows(conn, self.then)[: max_results + 1 - len(rows)]
        return rows

    def next_token(self, row: Sequence[Any]) -> str:
        """The opaque token of the page that starts after `row` (a row of `select`, a tuple
        or a Row)."""
        position = {column.key: i for i, column in enumerate(self.select.selected_columns)}
        payload = {
            "q": self.fingerprint,
            "k": [row[position[f"sk{i}"]] for i in range(self.sort_keys)],
            "id": row[position[self.primary_key]],
        }
        raw = json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def run_search(query: RunQuery) -> SearchStatement:
    """Compiles a run search: experiments, lifecycle stages, filter, order and page.

    Raises:
        InvalidParameter: a bad experiment id, filter value or page token.
    """
    runs = t.runs
    ids = _experiment_ids(query.experiment_ids)
    orders = _dedupe(query.order_by or (OrderKey("attribute", "start_time", False),))
    on_start = any(o.entity == "attribute" and o.key == "start_time" for o in orders)
    if not on_start:  # MLflow compat: start_time DESC, then run_uuid
        orders.append(OrderKey("attribute", "start_time", False))
    conditions = [
        runs.c.experiment_id.in_(ids),
        runs.c.lifecycle_stage.in_(_stages(query.view_type)),
        *(_run_condition(c, ids) for c in query.filter),
    ]
    fingerprint = _fingerprint(
        "runs", sorted(query.experiment_ids), query.filter, query.order_by, query.view_type
    )
    if orders[0].entity == "metric":
        return _metric_first(query, ids, orders, conditions, fingerprint)
    source, keys = _run_sort_keys(runs, orders)
    return _statement(runs, source, runs.c.run_uuid, str, keys, conditions, fingerprint, query)


def _metric_first(
    query: RunQuery,
    ids: list[int],
    orders: list[OrderKey],
    conditions: list[ColumnElement[bool]],
    fingerprint: str,
) -> SearchStatement:
    """Runs with a value for the leading metric, in the index's order, then the others."""
    runs, pk = t.runs, t.runs.c.run_uuid
    lead, rest = orders[0], orders[1:]
    lm = t.latest_metrics.alias()
    has_value = and_(
        lm.c.run_uuid == pk,
        lm.c.experiment_id.in_(ids),
        lm.c.key == lead.key,
        lm.c.is_nan == false(),
    )
    valued_source, valued_rest = _run_sort_keys(runs.join(lm, has_value), rest)
    valued = [_SortKey(lm.c.value, lead.ascending, False, True), *valued_rest]
    plain_source, plain_rest = _run_sort_keys(runs, rest)
    missing = [_SortKey(null(), lead.ascending, True, True), *plain_rest]
    without = [*conditions, pk.not_in(_metric_runs(ids, lead.key))]
    limit = query.max_results + 1
    if query.page_token is None:
        first = _select(runs, valued_source, pk, valued, conditions, limit)
        then = _select(runs, plain_source, pk, missing, without, limit)
        return SearchStatement(first, len(valued), "run_uuid", fingerprint, then)
    values, last_id = _decode_token(query.page_token, fingerprint, missing, str)
    if values[0] is None:  # the last page ended among the runs without the metric
        after = _after(plain_rest, values[1:], pk, last_id)
        only = _select(runs, plain_source, pk, missing, [*without, *after], limit)
        return SearchStatement(only, len(missing), "run_uuid", fingerprint)
    after = _after(valued, values, pk, last_id)
    first = _select(runs, valued_source, pk, valued, [*conditions, *after], limit)
    then = _select(runs, plain_source, pk, missing, without, limit)
    return SearchStatement(first, len(valued), "run_uuid", fingerprint, then)


def _metric_runs(ids: list[int], key: str, *passing: ColumnElement[bool]) -> Select[Any]:
    """The runs of these experiments with a (non-NaN) latest value of `key` that passes."""
    lm = t.latest_metrics
    return select(lm.c.run_uuid).where(
        lm.c.experiment_id.in_(ids), lm.c.key == key, lm.c.is_nan == false(), *passing
    )


def experiment_search(query: ExperimentQuery) -> SearchStatement:
    """Compiles an experiment search: lifecycle stages, filter, order and page.

    Raises:
        InvalidParameter: a bad filter value or page token.
    """
    experiments = t.experiments
    keys = []
    for order in _dedupe(query.order_by or (OrderKey("attribute", "creation_time", False),)):
        if order.entity != "attribute" or order.key not in _EXPERIMENT_COLUMNS:
            raise InvalidParameter(f"Cannot order experiments by {order.entity} {order.key!r}")
        column = experiments.c[order.key]
        keys.append(_SortKey(column, order.ascending, False, order.key != "name"))
    conditions = [
        experiments.c.lifecycle_stage.in_(_stages(query.view_type)),
        *(_experiment_condition(c) for c in query.filter),
    ]
    fingerprint = _fingerprint("experiments", query.filter, query.order_by, query.view_type)
    pk = experiments.c.experiment_id
    return _statement(experiments, experiments, pk, int, keys, conditions, fingerprint, query)


def _statement(
    table: Table,
    source: FromClause,
    pk: ColumnElement[Any],
    pk_type: type,
    keys: list[_SortKey],
    conditions: list[ColumnElement[bool]],
    fingerprint: str,
    query: PagedQuery,
) -> SearchStatement:
    if query.page_token is not None:
        values, last_id = _decode_token(query.page_token, fingerprint, keys, pk_type)
        conditions = [*conditions, *_after(keys, values, pk, last_id)]
    stmt = _select(table, source, pk, keys, conditions, query.max_results + 1)
    return SearchStatement(stmt, len(keys), pk.key or "", fingerprint)


def _select(
    table: Table,
    source: FromClause,
    pk: ColumnElement[Any],
    keys: list[_SortKey],
    conditions: list[ColumnElement[bool]],
    limit: int,
) -> Select[Any]:
    order_by = []
    for key in keys:
        if isinstance(key.expr, Null):  # the same for every row (PostgreSQL refuses it)
            continue
        term = key.expr.asc() if key.ascending else key.expr.desc()
        order_by.append(term.nulls_last() if key.nullable else term)
    return (
        select(table, *(key.expr.label(f"sk{i}") for i, key in enumerate(keys)))
        .select_from(source)
        .where(*conditions)
        .order_by(*order_by, pk.asc())
        .limit(limit)
    )


def _dedupe(order_by: Sequence[OrderKey]) -> list[OrderKey]:
    """Drops repeated keys: a later clause on the same key can never change the order."""
    seen: set[tuple[str, str]] = set()
    out = []
    for order in order_by:
        if (order.entity, order.key) not in seen:
            seen.add((order.entity, order.key))
            out.append(order)
    return out


def _run_sort_keys(
    source: FromClause, orders: Sequence[OrderKey]
) -> tuple[FromClause, list[_SortKey]]:
    keys = []
    for order in orders:
        source, key = _run_sort_key(source, order)
        keys.append(key)
    return source, keys


def _run_sort_key(source: FromClause, order: OrderKey) -> tuple[FromClause, _SortKey]:
    runs = t.runs
    if order.entity == "attribute":
        name = _RUN_COLUMNS.get(order.key)
        if name is None or name == "lifecycle_stage":
            raise InvalidParameter(f"Cannot order runs by attribute {order.key!r}")
        numeric = name in ("start_time", "end_time")
        return source, _SortKey(runs.c[name], order.ascending, name == "end_time", numeric)
    table = {"metric": t.latest_metrics, "param": t.params, "tag": t.tags}.get(order.entity)
    if table is None:
        raise InvalidParameter(f"Cannot order runs by {order.entity} {order.key!r}")
    alias = table.alias()
    joined = source.outerjoin(
        alias, and_(alias.c.run_uuid == runs.c.run_uuid, alias.c.key == order.key)
    )
    if order.entity == "metric":  # NaN sorts as missing
        expr: ColumnElement[Any] = case((alias.c.is_nan, null()), else_=alias.c.value)
        return joined, _SortKey(expr, order.ascending, True, True)
    return joined, _SortKey(alias.c.value, order.ascending, True, False)


def _run_condition(c: Comparison, ids: list[int]) -> ColumnElement[bool]:
    runs = t.runs
    if c.entity == "attribute":
        name = _RUN_COLUMNS.get(c.key)
        if name is None:
            raise InvalidParameter(f"Unknown run attribute {c.key!r} in the filter")
        numeric = name in ("start_time", "end_time")
        return _compare(runs.c[name], c, int if numeric else str)
    if c.entity == "metric":
        return runs.c.run_uuid.in_(
            _metric_runs(ids, c.key, _compare(t.latest_metrics.c.value, c, float))
        )
    if c.entity in ("param", "tag"):
        table = t.params if c.entity == "param" else t.tags
        return _key_value_condition(table, table.c.run_uuid == runs.c.run_uuid, c)
    if c.key == "context":
        rit = t.run_input_tags
        return exists().where(
            rit.c.run_uuid == runs.c.run_uuid,
            rit.c.key == _DATASET_CONTEXT_TAG,
            _compare(rit.c.value, c, str),
        )
    if c.key not in ("name", "digest"):
        raise InvalidParameter(f"Unknown dataset field {c.key!r} in the filter")
    ri, ds = t.run_inputs, t.datasets
    return (
        exists()
        .select_from(ri.join(ds, ds.c.dataset_uuid == ri.c.dataset_uuid))
        .where(ri.c.run_uuid == runs.c.run_uuid, _compare(ds.c[c.key], c, str))
    )


def _experiment_condition(c: Comparison) -> ColumnElement[bool]:
    experiments = t.experiments
    if c.entity == "tag":
        tags = t.experiment_tags
        owner = tags.c.experiment_id == experiments.c.experiment_id
        return _key_value_condition(tags, owner, c)
    if c.entity == "attribute" and c.key == "experiment_id" and c.op in ("=", "!="):
        # Ids are integers here and decimal strings on the wire: a string that names no
        # integer equals no experiment.
        text = c.value if isinstance(c.value, str) else ""
        if not (text.isascii() and text.isdigit() and len(text) < 19):
            return false() if c.op == "=" else true()
        return _compare(
            experiments.c.experiment_id, Comparison(c.entity, c.key, c.op, int(text)), int
        )
    if c.entity != "attribute" or c.key not in ("name", "creation_time", "last_update_time"):
        raise InvalidParameter(f"Cannot filter experiments on {c.entity} {c.key!r}")
    return _compare(experiments.c[c.key], c, str if c.key == "name" else int)


def _key_value_condition(
    table: Table, owner: ColumnElement[bool], c: Comparison
) -> ColumnElement[bool]:
    """A param or tag clause: IS NULL means the key is absent, anything else needs it present."""
    has_key = exists().where(owner, table.c.key == c.key)
    if c.op == "IS NULL":
        return ~has_key
    if c.op == "IS NOT NULL":
        return has_key
    return has_key.where(_compare(table.c.value, c, str))


def _compare(column: ColumnElement[Any], c: Comparison, kind: type) -> ColumnElement[bool]:
    value = _checked(c, kind)
    if c.op in ("IN", "NOT IN"):
        if not isinstance(value, tuple) or not value:
            raise InvalidParameter(f"{c.op} on {c.entity} {c.key!r} needs a non-empty list")
        return column.in_(value) if c.op == "IN" else column.not_in(value)
    if c.op == "RLIKE":
        if kind is not str or not isinstance(value, str):
            raise InvalidParameter(f"RLIKE on {c.entity} {c.key!r} needs a string pattern")
        # SQLite: SQLAlchemy's pysqlite dialect gives each connection a REGEXP of Python's re;
        # PostgreSQL: the ~ operator.
        return column.regexp_match(value)
    if c.op in ("LIKE", "ILIKE"):
        if kind is not str or not isinstance(value, str):
            raise InvalidParameter(f"{c.op} on {c.entity} {c.key!r} needs a string pattern")
        pattern = _like_pattern(value)
        if c.op == "LIKE":
            return column.like(pattern, escape="\\")
        return func.lower(column).like(func.lower(pattern), escape="\\")
    comparisons = {
        "=": column.__eq__,
        "!=": column.__ne__,
        "<": column.__lt__,
        ">": column.__gt__,
        "<=": column.__le__,
        ">=": column.__ge__,
    }
    compare = comparisons.get(c.op)
    if compare is None or (kind is str and c.op not in ("=", "!=")):
        raise InvalidParameter(f"{c.op} cannot be used with {c.entity} {c.key!r}")
    result: ColumnElement[bool] = compare(value)
    return result


def _checked(c: Comparison, kind: type) -> Value:
    """The clause's value, when its type suits the column (ASTs may be built by hand)."""
    value = c.value
    items = value if isinstance(value, tuple) else (value,)
    if kind is str:
        ok = all(isinstance(v, str) for v in items)
    else:
        ok = not isinstance(value, tuple) and _is_number(value)
        ok = ok and (kind is float or isinstance(value, int))
    if not ok:
        expected = {str: "a string", int: "an integer", float: "a number"}[kind]
        raise InvalidParameter(f"{c.entity} {c.key!r} must be compared with {expected}")
    return value


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def bindable(value: object) -> bool:
    """Whether a value read from a page token can be bound: an integer must fit in a BIGINT
    and a string hold no NUL (PostgreSQL refuses either with an error of its own)."""
    if isinstance(value, str):
        return "\x00" not in value
    return not isinstance(value, int) or -(2**63) <= value <= 2**63 - 1


def _like_pattern(pattern: str) -> str:
    """Backslash escapes % and _ (on SQLite and PostgreSQL alike); it cannot end a pattern."""
    i = 0
    while i < len(pattern):
        if pattern[i] == "\\":
            if i + 1 == len(pattern):
                raise InvalidParameter(
                    f"LIKE pattern {pattern!r} ends with a lone backslash; write \\\\ for a "
                    "literal backslash"
                )
            i += 1
        i += 1
    return pattern


def _experiment_ids(ids: Sequence[str]) -> list[int]:
    out = []
    for experiment_id in ids:
        text = str(experiment_id)
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            raise InvalidParameter(f"Invalid experiment id {experiment_id!r}: expected digits")
        out.append(int(text))
    return out


def _stages(view_type: ViewType) -> list[str]:
    return [stage.value for stage in ViewType(view_type).stages()]


def _fingerprint(*parts: object) -> str:
    """Names the query a token belongs to; reprs of the frozen AST are stable."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def _after(
    keys: list[_SortKey], values: list[Any], pk: ColumnElement[Any], last_id: Any
) -> list[ColumnElement[bool]]:
    """Rows strictly after the token's row in ORDER BY (keys..., pk).

    Each key is compared as the pair (key IS NULL, key): nulls after every value, all nulls
    equal. Built from the last key outwards as `after_i OR (equal_i AND <rest>)`. When the
    first key is never null, a plain bound on it comes too: the same rows, but one an index
    can seek to, so a deep page does not read every row before it."""
    rest: ColumnElement[bool] = pk > last_id
    for key, value in zip(reversed(keys), reversed(values), strict=True):
        if value is None:  # nothing sorts after a null but other nulls, tied on this key
            rest = and_(key.expr.is_(None), rest)
            continue
        beyond = key.expr > value if key.ascending else key.expr < value
        if key.nullable:
            beyond = or_(beyond, key.expr.is_(None))
        rest = or_(beyond, and_(key.expr == value, rest))
    if not keys or keys[0].nullable or values[0] is None:
        return [rest]
    first, value = keys[0].expr, values[0]
    return [first >= value if keys[0].ascending else first <= value, rest]


def _decode_token(
    token: str, fingerprint: str, keys: list[_SortKey], pk_type: type
) -> tuple[list[Any], Any]:
    bad = InvalidParameter(
        "Invalid page_token: it is corrupted or was not issued for this search; repeat the "
        "search without page_token and page with the tokens it returns"
    )
    if not isinstance(token, str) or len(token) > _MAX_TOKEN_CHARS:
        raise bad
    try:
        payload = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, RecursionError):
        raise bad from None
    if not isinstance(payload, dict) or payload.get("q") != fingerprint:
        raise bad
    values, last_id = payload.get("k"), payload.get("id")
    if not isinstance(values, list) or len(values) != len(keys):
        raise bad
    if type(last_id) is not pk_type or not bindable(last_id):
        raise bad
    for key, value in zip(keys, values, strict=True):
        if value is None:
            ok = key.nullable
        else:
            ok = (_is_number(value) if key.numeric else isinstance(value, str)) and bindable(value)
        if not ok:
            raise bad
    return values, last_id
