"""`heron keys rewrap` in the database: every sealed field whose data key another key than the
primary wrapped is sealed again under the primary, a batch at a time, while servers serve."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, Table, and_, select, update

from heron.store.crypto.fields import PREFIX, FieldCipher
from heron.store.sql.database import Database
from heron.store.sql.sealed_embedded import rewrap_embedded
from heron.store.sql.security_tables import access_tokens, audit_log
from heron.store.sql.tables import (
    assessments,
    experiment_tags,
    logged_model_params,
    logged_model_tags,
    model_version_events,
    model_version_tags,
    params,
    registered_model_tags,
    spans,
    tags,
    trace_metadata,
    trace_tags,
    traces,
    webhook_queue,
    webhooks,
)
from heron.store.sql.tables_evaluation import judge_cache

# Every column field encryption writes sealed values to, and the rows of it read at once
# (span inputs and outputs may be a megabyte each).
SEALED_COLUMNS: tuple[tuple[Table, str, int], ...] = (
    (params, "value", 500),
    (tags, "value", 500),
    (trace_tags, "value", 500),
    (experiment_tags, "value", 500),
    (logged_model_params, "value", 500),
    (logged_model_tags, "value", 500),
    (registered_model_tags, "value", 500),
    (model_version_tags, "value", 500),
    (trace_metadata, "value", 500),
    (traces, "request_preview", 500),
    (traces, "response_preview", 500),
    (spans, "inputs", 20),
    (spans, "outputs", 20),
    (assessments, "rationale", 500),
    (assessments, "value", 500),
    (judge_cache, "rationale", 500),
    (webhooks, "secret", 500),
    (webhook_queue, "body", 100),
    (access_tokens, "name", 500),
    (audit_log, "before", 500),
    (audit_log, "after", 500),
)


def rewrap_fields(database: Database, cipher: FieldCipher) -> int:
    """Seals again, under a data key the primary key wraps, every sealed value another key
    wrapped; returns how many. Values written in clear are left as they are.

    Raises:
        KeyUnavailable: a value's key is gone (retired before its values were rewrapped).
        DataLoss: a value was altered.
    """
    current = f"{PREFIX}{cipher.primary_key_id()}:"
    moved = 0
    for table, name, batch in SEALED_COLUMNS:
        column = table.c[name]
        keys = list(table.primary_key.columns)
        stale = (
            select(*keys, column)
            .where(column.startswith(PREFIX), ~column.startswith(current, autoescape=True))
            .limit(batch)
        )
        while True:
            with database.read() as conn:
                rows = conn.execute(stale).all()
            if not rows:
                break
            moved += database.write(functools.partial(_reseal, cipher, table, name, rows))
    return moved + _rewrap_activity(database, cipher, current) + rewrap_embedded(database, cipher)


def _rewrap_activity(database: Database, cipher: FieldCipher, current: str) -> int:
    """The values of sensitive version tags that model versions' activity logs keep, sealed
    in their JSON detail, sealed again under the primary key."""
    e = model_version_events
    stale = (
        select(e.c.event_id, e.c.detail)
        .where(
            e.c.kind == "tag_set",
            e.c.detail.contains(PREFIX, autoescape=True),
            ~e.c.detail.contains(current, autoescape=True),
        )
        .limit(500)
    )
    moved = 0
    while True:
        with database.read() as conn:
            rows = conn.execute(stale).all()
        if not rows:
            return moved
        moved += database.write(functools.partial(_reseal_details, cipher, rows))


def _reseal_details(cipher: FieldCipher, rows: Sequence[Any], conn: Connection) -> int:
    e = model_version_events
    done = 0
    for event_id, old in rows:
        fields = orjson.loads(old)
        value = cipher.encrypt(cipher.decrypt(fields["value"], "A version tag in the activity log"))
        fresh = orjson.dumps({**fields, "value": value}).decode()
        match = and_(e.c.event_id == event_id, e.c.detail == old)
        done += conn.execute(update(e).where(match).values(detail=fresh)).rowcount
    return done


def _reseal(
    cipher: FieldCipher, table: Table, name: str, rows: Sequence[Any], conn: Connection
) -> int:
    """Each row's value sealed again, unless it changed since it was read (then the next
    batch reads it again)."""
    keys = list(table.primary_key.columns)
    column = table.c[name]
    done = 0
    for row in rows:
        *ids, old = row
        fresh = cipher.encrypt(cipher.decrypt(old, f"A value of {table.name}.{name}"))
        match = and_(*(k == v for k, v in zip(keys, ids, strict=True)), column == old)
        done += conn.execute(update(table).where(match).values({name: fresh})).rowcount
    return done
