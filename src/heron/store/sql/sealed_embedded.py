"""Sealed values inside JSON columns (spans' attributes and events): which rows hold values in
clear that the settings seal, sealing them in place, and sealing them again under the primary
key (`heron keys seal` and `heron keys rewrap`)."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from typing import Any

import orjson
from sqlalchemy import Connection, Table, Text, bindparam, cast, select, true, tuple_, update
from sqlalchemy.sql.elements import ColumnElement

from heron.store.crypto.fields import PREFIX, FieldCipher
from heron.store.sql.database import Database, run
from heron.store.sql.tables import spans
from heron.store.sql.traces_sealed_spans import sealed_attribute_key

# The JSON columns holding sealed values, and the rows of each read at once.
EMBEDDED: tuple[tuple[Table, str, int], ...] = ((spans, "attributes", 200), (spans, "events", 200))
_SEALED_TEXT = re.compile(r'"(' + re.escape(PREFIX) + r'[^"\\]*)"')
IsSensitive = Callable[[str], bool]


def as_text(table: Table, name: str) -> ColumnElement[Any]:
    """The column as text (a json column of PostgreSQL has no `=` nor LIKE)."""
    column = table.c[name]
    return column if isinstance(column.type, Text) else cast(column, Text)


def _groups(column: str, decoded: Any) -> list[dict[str, Any]]:
    """The key/value objects of a column's JSON: the attributes, or each event's."""
    if column == "attributes":
        return [decoded] if isinstance(decoded, dict) else []
    return [e["attributes"] for e in decoded or () if isinstance(e.get("attributes"), dict)]


def _clear(value: Any) -> bool:
    return not (isinstance(value, str) and value.startswith(PREFIX))


def holds_clear(column: str, is_sensitive: IsSensitive, text: str) -> bool:
    """Whether the JSON `text` of `column` has a value in clear under a key sealed now."""
    return any(
        _clear(value) and sealed_attribute_key(is_sensitive, key)
        for group in _groups(column, orjson.loads(text))
        for key, value in group.items()
    )


def sealed_text(
    column: str, is_sensitive: IsSensitive, change: Callable[[str], str], text: str
) -> str:
    """The JSON `text` of `column` with each value in clear under a sealed key replaced by
    `change` of its JSON text (the stores' way of sealing it)."""
    decoded = orjson.loads(text)
    for group in _groups(column, decoded):
        for key, value in group.items():
            if _clear(value) and sealed_attribute_key(is_sensitive, key):
                group[key] = change(orjson.dumps(value).decode())
    return orjson.dumps(decoded, option=orjson.OPT_NON_STR_KEYS).decode()


def rewrap_embedded(database: Database, cipher: FieldCipher) -> int:
    """Seals again under the primary key every sealed value of EMBEDDED that another key
    wrapped; returns how many rows changed."""
    current = f"{PREFIX}{cipher.primary_key_id()}:"

    def reseal(m: re.Match[str]) -> str:
        sealed = m.group(1)
        if sealed.startswith(current):
            return m.group(0)
        return f'"{cipher.encrypt(cipher.decrypt(sealed, "A sealed span attribute"))}"'

    def resealed(text: str) -> str:
        return _SEALED_TEXT.sub(reseal, text)

    moved = 0
    for table, name, batch in EMBEDDED:
        text = as_text(table, name)
        for rows in keyset_batches(database, table, text, text.contains(PREFIX), batch):
            stale = [row for row in rows if _stale(row[-1], current)]
            if stale:
                write = functools.partial(_write_back, table, name, stale, resealed)
                moved += database.write(write)
    return moved


def _stale(text: str, current: str) -> bool:
    return any(not m.group(1).startswith(current) for m in _SEALED_TEXT.finditer(text))


def keyset_batches(
    database: Database, table: Table, value: ColumnElement[Any], where: Any, batch: int
) -> Iterator[list[Any]]:
    """The rows (primary key, then `value`) `where` picks, `batch` at a time in primary-key
    order, each batch read in its own transaction."""
    keys = list(table.primary_key.columns)
    after: ColumnElement[bool] = true()
    while True:
        stmt = select(*keys, value).where(where, after).order_by(*keys).limit(batch)
        with database.read() as conn:
            rows = [tuple(row) for row in conn.execute(stmt)]
        if not rows:
            return
        yield rows
        last = rows[-1][:-1]
        after = tuple_(*keys) > tuple_(*last) if len(keys) > 1 else keys[0] > last[0]


@functools.cache
def compare_and_set(table: Table, name: str) -> Any:
    """`UPDATE table SET name = :new WHERE <primary key> = :k<i> AND name = :old` (the
    column compared as text), built once (`run` keeps its compiled form by identity)."""
    keys = list(table.primary_key.columns)
    match = [k == bindparam(f"k{i}") for i, k in enumerate(keys)]
    old = as_text(table, name) == bindparam("old", type_=Text())
    return update(table).where(*match, old).values({name: bindparam("new")})


def _write_back(
    table: Table, name: str, rows: list[Any], change: Callable[[str], str], conn: Connection
) -> int:
    """Each row's text changed, unless it changed since it was read."""
    stmt = compare_and_set(table, name)
    done = 0
    for *ids, old in rows:
        params = {f"k{i}": v for i, v in enumerate(ids)}
        done += run(conn, stmt, {**params, "old": old, "new": change(old)})
    return done
