"""Registry searches compiled to SQL and paged by keyset tokens.

A filter clause on a field is a comparison on its column; one on a tag is a correlated EXISTS
served by the tag table's primary key. Every ORDER BY ends with the row's unique key, so a
page token (the sort values of a page's last row and a fingerprint of the query) names the
exact row the next page starts after."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    and_,
    exists,
    func,
    not_,
    or_,
    select,
)

from heron.entities import reserved
from heron.errors import InvalidParameter
from heron.search import Comparison, OrderKey
from heron.store.registry import RegistryQuery
from heron.store.sql.registry_rows import mv, rm, version_select
from heron.store.sql.search_sql import bindable, bound_to, operator
from heron.store.sql.tables import model_version_tags, registered_model_tags
from heron.store.sql.visibility import visible
from heron.store.sql.workspaces import in_workspace

_MAX_TOKEN_CHARS = 4096


@dataclass(frozen=True, slots=True)
class Keyset:
    """A compiled search: `select` (max_results + 1 rows, sort values labelled k0..kN)."""

    select: Select[Any]
    width: int
    fingerprint: str
    offset: int  # the sort values follow the base's columns

    def token_after(self, row: Sequence[Any]) -> str:
        values = [row[self.offset + i] for i in range(self.width)]
        payload = [self.fingerprint, values]
        return base64.urlsafe_b64encode(orjson.dumps(payload)).decode().rstrip("=")


def registered_models(query: RegistryQuery) -> Keyset:
    conditions = [_model_condition(c) for c in _without_prompt_clause(query)]
    conditions.append(in_workspace(rm.c.workspace))
    if not query.include_prompts:
        conditions.append(_NOT_A_PROMPT_MODEL)
    shown = visible(rm.c.name, query.visible)
    if shown is not None:
        conditions.append(shown)
    columns = {
        "name": rm.c.name,
        "creation_timestamp": rm.c.creation_timestamp,
        "last_updated_timestamp": rm.c.last_updated_timestamp,
    }
    keys = [(columns[o.key], o.ascending) for o in query.order_by]
    if not any(o.key == "name" for o in query.order_by):
        keys.append((rm.c.name, True))  # names are unique: the order is total
    return _keyset(select(rm), keys, conditions, query, "models")


def model_versions(query: RegistryQuery) -> Keyset:
    conditions = [_version_condition(c) for c in _without_prompt_clause(query)]
    conditions.append(in_workspace(rm.c.workspace))
    if not query.include_prompts:
        conditions.append(_NOT_A_PROMPT_VERSION)
    shown = visible(rm.c.name, query.visible)
    if shown is not None:
        conditions.append(shown)
    columns = {
        "name": rm.c.name,
        "version_number": mv.c.version,
        "creation_timestamp": mv.c.creation_timestamp,
        "last_updated_timestamp": mv.c.last_updated_timestamp,
    }
    order = list(query.order_by) or [
        OrderKey("attribute", "last_updated_timestamp", False),
        OrderKey("attribute", "name", True),
        OrderKey("attribute", "version_number", False),
    ]
    keys = [(columns[o.key], o.ascending) for o in order]
    named = {o.key for o in order}
    if "name" not in named:
        keys.append((rm.c.name, True))
    if "version_number" not in named:
        keys.append((mv.c.version, True))
    return _keyset(version_select(), keys, conditions, query, "versions")


def _without_prompt_clause(query: RegistryQuery) -> list[Comparison]:
    """MLflow compat: the client adds `tags.mlflow.prompt.is_prompt != 'true'` to every
    search, which must match models without that tag: when the search leaves prompts out,
    that clause is the exclusion itself."""
    if query.include_prompts:
        return list(query.filter)
    return [c for c in query.filter if not (c.entity == "tag" and c.key == reserved.IS_PROMPT)]


def _keyset(
    base: Select[Any],
    keys: list[tuple[Any, bool]],
    conditions: list[ColumnElement[bool]],
    query: RegistryQuery,
    what: str,
) -> Keyset:
    fingerprint = hashlib.sha256(
        repr((what, tuple(query.filter), tuple(query.order_by), query.include_prompts)).encode()
    ).hexdigest()[:16]
    if query.page_token is not None:
        columns = [column for column, _ in keys]
        conditions.append(_after(keys, _decode(query.page_token, fingerprint, columns)))
    stmt = (
        base.add_columns(*(column.label(f"k{i}") for i, (column, _) in enumerate(keys)))
        .where(*conditions)
        .order_by(*(column.asc() if up else column.desc() for column, up in keys))
        .limit(query.max_results + 1)
    )
    return Keyset(stmt, len(keys), fingerprint, len(base.selected_columns))


def _after(keys: list[tuple[Any, bool]], values: Sequence[Any]) -> ColumnElement[bool]:
    """Rows strictly after `values` in the order of `keys` (no key is ever NULL)."""
    later: ColumnElement[bool] | None = None
    for (column, up), value in zip(reversed(keys), reversed(values), strict=True):
        beyond = column > value if up else column < value
        later = beyond if later is None else or_(beyond, and_(column == value, later))
    assert later is not None  # noqa: S101 - every search has a key
    return later


def _kind(column: Any) -> type:
    """The Python type a sort key's values have (a token's values must match it: PostgreSQL
    refuses to compare an integer column with a string)."""
    return int if isinstance(column.type, Integer | BigInteger) else str


def _decode(token: str, fingerprint: str, columns: list[Any]) -> list[Any]:
    bad = InvalidParameter(
        "Invalid page_token: it is corrupted or was not issued for this search; repeat the "
        "search without page_token and page with the tokens it returns"
    )
    if len(token) > _MAX_TOKEN_CHARS:
        raise bad
    try:
        payload = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        raise bad from None
    if not (isinstance(payload, list) and len(payload) == 2 and payload[0] == fingerprint):
        raise bad
    values = payload[1]
    if not isinstance(values, list) or len(values) != len(columns):
        raise bad
    for value, column in zip(values, columns, strict=True):
        if type(value) is not _kind(column) or not bindable(value, column):
            raise bad
    return values


def _model_owner() -> ColumnElement[bool]:
    return registered_model_tags.c.registered_model_id == rm.c.registered_model_id


def _version_owner() -> ColumnElement[bool]:
    t = model_version_tags
    return and_(t.c.registered_model_id == mv.c.registered_model_id, t.c.version == mv.c.version)


def _has_tag(table: Any, owner: ColumnElement[bool], key: str, value: str) -> Any:
    return exists().where(owner, table.c.key == key, table.c.value == value)


def _model_condition(c: Comparison) -> ColumnElement[bool]:
    if c.entity == "tag":
        t = registered_model_tags
        return exists().where(_model_owner(), t.c.key == c.key, compare(t.c.value, c))
    return compare(rm.c.name, c)


def _version_condition(c: Comparison) -> ColumnElement[bool]:
    if c.entity == "tag":
        t = model_version_tags
        return exists().where(_version_owner(), t.c.key == c.key, compare(t.c.value, c))
    column = {
        "name": rm.c.name,
        "run_id": mv.c.run_id,
        "source_path": mv.c.source,
        "version_number": mv.c.version,
    }[c.key]
    return compare(column, c)


def compare(column: ColumnElement[Any], c: Comparison) -> ColumnElement[bool]:
    """`column <op> value` for one parsed clause (the parser checked op and value types)."""
    value = bound_to(column, c.value)
    if c.op == "IN":
        return column.in_(list(value)) if isinstance(value, tuple) else _never()
    if c.op == "NOT IN":
        return column.not_in(list(value)) if isinstance(value, tuple) else _never()
    if c.op == "LIKE":
        like: ColumnElement[bool] = column.like(_pattern(value), escape="\\")
        return like
    if c.op == "ILIKE":
        return func.lower(column).like(func.lower(_pattern(value)), escape="\\")
    apply = operator(column, c.op)
    if apply is None:  # the parser lets no other op through
        raise InvalidParameter(f"{c.op} cannot be used with {c.entity} {c.key!r}")
    return apply(value)


def _never() -> ColumnElement[bool]:
    raise InvalidParameter("IN and NOT IN take a parenthesised list of strings")


def _pattern(value: object) -> str:
    if not isinstance(value, str):
        raise InvalidParameter(f"LIKE needs a quoted pattern, got {value!r}")
    if value.endswith("\\") and (len(value) - len(value.rstrip("\\"))) % 2 == 1:
        raise InvalidParameter(
            f"LIKE pattern {value!r} ends with a lone backslash; write \\\\ for a backslash"
        )
    return value


# The same on every search that leaves prompts out: built once (Core clauses are immutable).
_NOT_A_PROMPT_MODEL = not_(
    _has_tag(registered_model_tags, _model_owner(), reserved.IS_PROMPT, "true")
)
_NOT_A_PROMPT_VERSION = not_(
    _has_tag(model_version_tags, _version_owner(), reserved.IS_PROMPT, "true")
)
