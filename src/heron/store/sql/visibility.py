"""A `Visibility` as a condition of the query that searches: the rows a caller may not see
are never read, so pages and their tokens hold none of them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import and_, false, func, not_, or_
from sqlalchemy.sql.elements import ColumnElement

from heron.store.sql.json_sql import in_values
from heron.store.visibility import Visibility


def visible(
    column: ColumnElement[Any],
    visibility: Visibility | None,
    *,
    key: Callable[[str], Any | None] = str,
) -> ColumnElement[bool] | None:
    """The condition that keeps `column` (an id or a name) to what `visibility` shows; None
    when it shows everything. `key` turns an id into the column's value, or None for an id
    no row can have."""
    if visibility is None or visibility.everything:
        return None
    terms: list[ColumnElement[bool]] = []
    if visibility.ids is not None:
        shown = [*_keys(visibility.ids, key)]
        allowed = [in_values(column, shown)] if shown else []
        allowed += [_under(column, p) for p in visibility.prefixes]
        terms.append(or_(*allowed) if allowed else false())
    hidden = [*_keys(visibility.hidden, key)]
    if hidden:
        terms.append(not_(in_values(column, hidden)))
    terms += [not_(_under(column, p)) for p in visibility.hidden_prefixes]
    return and_(*terms)


def _keys(ids: Iterable[str], key: Callable[[str], Any | None]) -> Iterable[Any]:
    for id_ in sorted(ids):
        value = key(id_)
        if value is not None:
            yield value


def _under(column: ColumnElement[Any], prefix: str) -> ColumnElement[bool]:
    """A three-level name (two dots) under `prefix`: substr, not LIKE, so a name's own % and
    _ need no escaping."""
    dots = func.length(column) - func.length(func.replace(column, ".", ""))
    return and_(func.substr(column, 1, len(prefix)) == prefix, dots == 2)
