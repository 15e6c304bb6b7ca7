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
    func,
    null,
    or_,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from heron.entities.assessment import AssessmentKind
from heron.store.crypto.fields import PREFIX, FieldCipher
from heron.store.sql.database import Database, run
from heron.store.sql.sealed_embedded import (
    EMBEDDED,
    IsSensitive,
    as_text,
    compare_and_set,
    holds_clear,
    keyset_batches,
    sealed_text,
)
from heron.store.sql.sealed_rewrap import SEALED_COLUMNS
from heron.store.sql.security_audit import KEYED_FIELDS, holds_sensitive_value
from heron.store.sql.security_tables import audit_log
from heron.store.sql.tables import assessments, model_version_events, trace_metadata
from heron.store.sql.traces_sealed import SEALED_METADATA
from heron.store.sql.traces_sealed_spans import ALWAYS_SEALED_ATTRIBUTES

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
# An expectation's value is sealed with no copy for filters and no score.
_CLEARS = {("assessments", "value"): ("value_text", "score")}
_KEYS_AT_ONCE = 500  # sensitive keys named in one IN list
# A scope: the rows of a field's table it picks, and a test each value must pass besides.
Pick = Callable[[str], bool] | None


@dataclass(frozen=True, slots=True)
class Field:
    """One column that holds sealed values, and which of its rows must be sealed."""

    table: Table
    column: str
    batch: int  # rows read (and sealed) in one transaction
    # The value to write, given the sealing function, the test of sensitive keys and the
    # value read (default: the value sealed).
    rewrite: Callable[[Callable[[str], str], IsSensitive, str], str] | None = None
    clears: tuple[str, ...] = ()  # columns set to NULL with it (copies of the value)

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"

    @property
    def text(self) -> ColumnElement[Any]:
        return as_text(self.table, self.column)

    @property
    def by_key(self) -> bool:
        return self.table.name in _BY_KEY


def _tag_set_detail(change: Callable[[str], str], _: IsSensitive, detail: str) -> str:
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


def _embedded(column: str) -> Callable[[Callable[[str], str], IsSensitive, str], str]:
    def rewrite(change: Callable[[str], str], is_sensitive: IsSensitive, text: str) -> str:
        return sealed_text(column, is_sensitive, change, text)

    return rewrite


FIELDS = (
    *(
        Field(table, column, batch, clears=_CLEARS.get((table.name, column), ()))
        for table, column, batch in SEALED_COLUMNS
    ),
    Field(model_version_events, "detail", 500, rewrite=_tag_set_detail),
    *(Field(table, column, batch, rewrite=_embedded(column)) for table, column, batch in EMBEDDED),
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
                    for rows in keyset_batches(
                        database, field.table, field.text, where, field.batch
                    )
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
        write = functools.partial(_write, field, change, cipher.is_sensitive)
        for where, pick in scopes:
            for read in keyset_batches(database, field.table, field.text, where, field.batch):
                rows = read if pick is None else [row for row in read if pick(row[-1])]
                if rows:
                    total += database.write(functools.partial(write, rows))
                if on_batch is not None:
                    on_batch(field.name, total)
    return total


def _clear_scopes(
    conn: Connection, field: Field, cipher: FieldCipher
) -> Iterator[tuple[ColumnElement[bool], Pick]]:
    """The conditions on `field`'s table (each with a test of the value, or None) that
    together pick its values in clear that must be sealed."""
    column = field.text
    clear = and_(column.is_not(None), ~column.startswith(PREFIX, autoescape=True))
    keyed_only = field.by_key or field.table is model_version_events
    if keyed_only and not cipher.sensitive_keys:
        return  # no pattern: no value of these is sealed
    if field.table is model_version_events:
        tag_set = and_(model_version_events.c.kind == "tag_set", ~column.contains(PREFIX))
        pick = functools.partial(_tag_set_of_sensitive_key, cipher.is_sensitive)
        yield and_(column.is_not(None), tag_set), pick
    elif field.rewrite is not None:  # JSON holding values of sealed keys
        pick = functools.partial(holds_clear, field.column, cipher.is_sensitive)
        if cipher.sensitive_keys:
            yield column.is_not(None), pick
        else:  # only the keys always sealed can be in clear: rows naming one
            names = (f'"{p.rstrip("*")}' for p in ALWAYS_SEALED_ATTRIBUTES)
            yield or_(*(column.contains(n, autoescape=True) for n in names)), pick
    elif field.table is assessments and field.column == "value":
        yield and_(clear, assessments.c.kind == AssessmentKind.EXPECTATION.value), None
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


@functools.cache
def _update(field: Field) -> Any:
    """`UPDATE ... SET column = :new WHERE <primary key> = :k<i> AND column = :old` (and the
    field's copies cleared), built once (`run` keeps its compiled form by identity)."""
    stmt = compare_and_set(field.table, field.column)
    return stmt.values(dict.fromkeys(field.clears, null())) if field.clears else stmt


def _write(
    field: Field,
    change: Callable[[str], str],
    is_sensitive: IsSensitive,
    rows: Sequence[Any],
    conn: Connection,
) -> int:
    """Each row's value changed, unless it changed since it was read (a server wrote it: it
    is then as the server's settings want it, or the next run picks it up)."""
    stmt = _update(field)
    done = 0
    for *ids, old in rows:
        params = {f"k{i}": v for i, v in enumerate(ids)}
        new = change(old) if field.rewrite is None else field.rewrite(change, is_sensitive, old)
        done += run(conn, stmt, {**params, "old": old, "new": new})
    return done
