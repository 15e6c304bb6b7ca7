"""Searches compiled to SQLAlchemy Core and paged by opaque keyset tokens: what the run,
experiment, logged-model and trace searches share (sort keys, the page statement, tokens,
comparisons of filter clauses).

The primary key ends every ORDER BY, so the order is total and a page token can name the exact
row a page ended on: the next page starts strictly after it, whatever ties there are on the
other keys. A row missing an order key sorts last in both directions."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    FromClause,
    Integer,
    Select,
    Table,
    and_,
    exists,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.sql.elements import Null

from heron.entities import ViewType
from heron.errors import InvalidParameter
from heron.search import Comparison, OrderKey, Value
from heron.store import ids
from heron.store.sql.database import plain_rows

_MAX_TOKEN_CHARS = 8192


class PagedQuery(Protocol):
    """What `page_statement` reads of a query besides its compiled parts."""

    @property
    def max_results(self) -> int: ...

    @property
    def page_token(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class SortKey:
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


def page_statement(
    table: Table,
    source: FromClause,
    pk: ColumnElement[Any],
    pk_type: type,
    keys: list[SortKey],
    conditions: list[ColumnElement[bool]],
    fingerprint: str,
    query: PagedQuery,
) -> SearchStatement:
    if query.page_token is not None:
        values, last_id = decode_token(query.page_token, fingerprint, keys, pk, pk_type)
        conditions = [*conditions, *rows_after(keys, values, pk, last_id)]
    stmt = select_page(table, source, pk, keys, conditions, query.max_results + 1)
    return SearchStatement(stmt, len(keys), pk.key or "", fingerprint)


def select_page(
    table: Table,
    source: FromClause,
    pk: ColumnElement[Any],
    keys: list[SortKey],
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


def dedupe_order(order_by: Sequence[OrderKey]) -> list[OrderKey]:
    """Drops repeated keys: a later clause on the same key can never change the order."""
    seen: set[tuple[str, str]] = set()
    out = []
    for order in order_by:
        if (order.entity, order.key) not in seen:
            seen.add((order.entity, order.key))
            out.append(order)
    return out


def key_value_condition(
    table: Table, owner: ColumnElement[bool], c: Comparison
) -> ColumnElement[bool]:
    """A param or tag clause: IS NULL means the key is absent, anything else needs it present."""
    has_key = exists().where(owner, table.c.key == c.key)
    if c.op == "IS NULL":
        return ~has_key
    if c.op == "IS NOT NULL":
        return has_key
    return has_key.where(compare(table.c.value, c, str))


def compare(column: ColumnElement[Any], c: Comparison, kind: type) -> ColumnElement[bool]:
    value = bound_to(column, _checked(c, kind))
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
    apply = operator(column, c.op)
    if apply is None or (kind is str and c.op not in ("=", "!=")):
        raise InvalidParameter(f"{c.op} cannot be used with {c.entity} {c.key!r}")
    result: ColumnElement[bool] = apply(value)
    return result


def operator(column: ColumnElement[Any], op: str) -> Callable[[Any], ColumnElement[bool]] | None:
    """`column`'s comparison for one of = != < > <= >= (None for any other op)."""
    comparisons: dict[str, Callable[[Any], ColumnElement[bool]]] = {
        "=": column.__eq__,
        "!=": column.__ne__,
        "<": column.__lt__,
        ">": column.__gt__,
        "<=": column.__le__,
        ">=": column.__ge__,
    }
    return comparisons.get(op)


def bound_to(column: ColumnElement[Any], value: Any) -> Any:
    """Integers compared with a 32-bit column are bound as BIGINTs: PostgreSQL refuses to cast
    one past the column's range to its type (SQLite compares any integers), so a filter such as
    `version_number > 99999999999` finds what it says, nothing, instead of failing."""
    if integer_limit(column) != ids.INT32_MAX:
        return value
    if isinstance(value, tuple):
        return tuple(bound_to(column, v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return literal(value, BigInteger)
    return value


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


def bindable(value: object, column: object = None) -> bool:
    """Whether a value read from a page token can be bound, compared with `column`: an integer
    must fit the column's type (a 32-bit Integer, else a BIGINT) and a string hold no NUL
    (PostgreSQL refuses either with an error of its own; SQLite would just find no row)."""
    if isinstance(value, str):
        return "\x00" not in value
    limit = integer_limit(column)
    return not isinstance(value, int) or -limit - 1 <= value <= limit


def integer_limit(column: object) -> int:
    """The largest integer `column` holds: its type in tables.py, a BIGINT when not a column."""
    kind = getattr(column, "type", None)
    if isinstance(kind, Integer) and not isinstance(kind, BigInteger):
        return ids.INT32_MAX
    return ids.INT64_MAX


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


def experiment_keys(experiment_ids: Sequence[str]) -> list[int]:
    """The integer keys of experiment ids (NotFound for one no experiment can have)."""
    return [ids.experiment_key(e) for e in experiment_ids]


def lifecycle_stages(view_type: ViewType) -> list[str]:
    return [stage.value for stage in ViewType(view_type).stages()]


def query_fingerprint(*parts: object) -> str:
    """Names the query a token belongs to; reprs of the frozen AST are stable."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def rows_after(
    keys: list[SortKey], values: list[Any], pk: ColumnElement[Any], last_id: Any
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


def decode_token(
    token: str, fingerprint: str, keys: list[SortKey], pk: ColumnElement[Any], pk_type: type
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
    if type(last_id) is not pk_type or not bindable(last_id, pk):
        raise bad
    for key, value in zip(keys, values, strict=True):
        if value is None:
            ok = key.nullable
        else:
            number = _is_number(value) if key.numeric else isinstance(value, str)
            ok = number and bindable(value, key.expr)
        if not ok:
            raise bad
    return values, last_id
