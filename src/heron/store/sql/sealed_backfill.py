"""`heron keys seal` in the database: the values the current settings say must be sealed but
that were written in clear (before encryption, or before their key matched a pattern) are
sealed, a batch at a time, in primary-key order, while servers serve; and how many are left.

Each batch is its own transaction and each row is written only if it did not change since it
was read, so the command can be killed at any point and run again: sealed values are never
selected, so a second run changes nothing."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Table,
    and_,
    bindparam,
    func,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.sql.elements import ColumnElement

from heron.store.crypto.fields import PREFIX, FieldCipher
from heron.store.sql.database import Database, run
from heron.store.sql.sealed_rewrap import SEALED_COLUMNS
from heron.store.sql.security_audit import KEYED_FIELDS, holds_sensitive_value
from heron.store.sql.security_tables import audit_log
from heron.store.sql.tables import model_version_events, trace_metadata
from heron.store.sql.traces_sealed import SEALED_METADATA

# The key/value tables whose values are sealed when their key matches --sensitive-keys.
_BY_KEY = frozenset(
    {
        "params",
        "tags",
        "trace_tags",
        "experiment_tags",
        "logged_model_params",
        "logged_model_tags",
        "registered_model_tags",
        "model_version_tags",
    }
)
_KEYS_AT_ONCE = 500  # sensitive keys named in one IN list
# A scope: the rows of a field's table it picks, and a test each value must pass besides.
Pick = Callable[[str], bool] | None


@dataclass(frozen=True, slots=True)
class Field:
    """One column that holds sealed values, and which of its rows must be sealed."""

    table: Table
    column: str
    batch: int  # rows read (and sealed) in one transaction
    # The value to write, given the sealing function and the value read (default: sealed).
    rewrite: Callable[[Callable[[str], str], str], str] | None = None

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"

    @property
    def by_key(self) -> bool:
        return self.table.name in _BY_KEY


def _tag_set_detail(change: Callable[[str], str], detail: str) -> str:
    """A version's `tag_set` activity entry with the tag's value sealed (as the store writes
    it for a sensitive key)."""
    fields = orjson.loads(detail)
    return orjson.dumps({**fields, "value": change(fields["value"])}).decode()


def _tag_set_of_sensitive_key(is_sensitive: Callable[[str], bool], detail: str) -> bool:
    fields = orjson.loads(detail)
    return (
        isinstance(fields, dict)
        and isinstance(fields.get("key"), str)
        and isinstance(fields.get("value"), str)
        and is_sensitive(fields["key"])
    )


FIELDS = (
    *(Field(table, column, batch) for table, column, batch in SEALED_COLUMNS),
    Field(model_version_events, "detail", 500, rewrite=_tag_set_detail),
)


def clear_counts(database: Database, cipher: FieldCipher) -> dict[str, int]:
    """How many values of each field the settings of `cipher` seal are still in clear."""
    counts = {}
    for field in FIELDS:
        with database.read() as conn:
            scopes = list(_clear_scopes(conn, field, cipher))
            counts[field.name] = sum(
                int(conn.execute(select(func.count()).where(where)).scalar_one())
                for where, pick in scopes
                if pick is None
            )
        for where, pick in scopes:
            if pick is not None:
                counts[field.name] += sum(
                    sum(1 for row in rows if pick(row[-1]))
                    for rows in _batches(database, field, where)
                )
    return counts


def seal_clear(
    database: Database,
    cipher: FieldCipher,
    *,
    on_batch: Callable[[str, int], None] | None = None,
) -> int:
    """Seals every value in clear that the settings of `cipher` seal; returns how many.
    `on_batch(field, sealed so far)` is told after each committed batch."""
    return sweep(database, cipher, cipher.encrypt, on_batch=on_batch)


def sweep(
    database: Database,
    cipher: FieldCipher,
    change: Callable[[str], str],
    *,
    on_batch: Callable[[str, int], None] | None = None,
) -> int:
    """Writes `change(value)` in place of every value in clear that `cipher`'s settings seal
    (`seal_clear` with `cipher.encrypt`; a benchmark's floor with the identity)."""
    total = 0
    for field in FIELDS:
        with database.read() as conn:
            scopes = list(_clear_scopes(conn, field, cipher))
        for where, pick in scopes:
            for read in _batches(database, field, where):
                rows = read if pick is None else [row for row in read if pick(row[-1])]
                if rows:
                    total += database.write(functools.partial(_write, field, rows, change))
                if on_batch is not None:
                    on_batch(field.name, total)
    return total


def _clear_scopes(
    conn: Connection, field: Field, cipher: FieldCipher
) -> Iterator[tuple[ColumnElement[bool], Pick]]:
    """The conditions on `field`'s table (each with a test of the value, or None) that
    together pick its values in clear that must be sealed."""
    column = field.table.c[field.column]
    clear = and_(column.is_not(None), ~column.startswith(PREFIX, autoescape=True))
    keyed_only = field.by_key or field.table is model_version_events
    if keyed_only and not cipher.sensitive_keys:
        return  # no pattern: no value of these is sealed
    if field.table is model_version_events:
        tag_set = and_(model_version_events.c.kind == "tag_set", ~column.contains(PREFIX))
        pick = functools.partial(_tag_set_of_sensitive_key, cipher.is_sensitive)
        yield and_(column.is_not(None), tag_set), pick
    elif field.table is trace_metadata:
        yield and_(clear, trace_metadata.c.key.in_(SEALED_METADATA)), None
    elif field.table is audit_log:
        token = audit_log.c.object_type == "token"
        yield and_(clear, token), None
        if not cipher.sensitive_keys:
            return
        keyed = or_(*(column.contains(f'"{f}', autoescape=True) for f in KEYED_FIELDS))
        pick = functools.partial(holds_sensitive_value, cipher.is_sensitive)
        yield and_(clear, ~token, keyed), pick
    elif not field.by_key:
        yield clear, None
    else:
        key = field.table.c.key
        sensitive = sorted(
            k
            for k in conn.execute(select(key).where(clear).distinct()).scalars()
            if cipher.is_sensitive(k)
        )
        for start in range(0, len(sensitive), _KEYS_AT_ONCE):
            yield and_(clear, key.in_(sensitive[start : start + _KEYS_AT_ONCE])), None


def _batches(database: Database, field: Field, where: ColumnElement[bool]) -> Iterator[list[Any]]:
    """The rows (primary key, then the value) `where` picks, a batch at a time, in primary
    key order: each batch starts after the last row of the one before."""
    keys = list(field.table.primary_key.columns)
    after: ColumnElement[bool] = true()
    while True:
        stmt = (
            select(*keys, field.table.c[field.column])
            .where(where, after)
            .order_by(*keys)
            .limit(field.batch)
        )
        with database.read() as conn:
            rows = [tuple(row) for row in conn.execute(stmt)]
        if not rows:
            return
        yield rows
        last = rows[-1][:-1]
        after = tuple_(*keys) > tuple_(*last) if len(keys) > 1 else keys[0] > last[0]


@functools.cache
def _update(field: Field) -> Any:
    """`UPDATE ... SET column = :new WHERE <primary key> = :k<i> AND column = :old`, built
    once (`run` keeps its compiled form by identity)."""
    keys = list(field.table.primary_key.columns)
    column = field.table.c[field.column]
    match = [k == bindparam(f"k{i}") for i, k in enumerate(keys)]
    return (
        update(field.table)
        .where(*match, column == bindparam("old"))
        .values({field.column: bindparam("new")})
    )


def _write(
    field: Field, rows: Sequence[Any], change: Callable[[str], str], conn: Connection
) -> int:
    """Each row's value changed, unless it changed since it was read (a server wrote it: it
    is then as the server's settings want it, or the next run picks it up)."""
    stmt = _update(field)
    done = 0
    for *ids, old in rows:
        params = {f"k{i}": v for i, v in enumerate(ids)}
        new = change(old) if field.rewrite is None else field.rewrite(change, old)
        done += run(conn, stmt, {**params, "old": old, "new": new})
    return done
