"""The general work queue (`work_queue`): background work of any kind, claimed with a lease
(`leases.LeaseQueue`, the mechanism webhook deliveries use) by `heron worker` processes.

Every function takes the caller's connection, so queueing work and changing what it works on
happen in one transaction; every change to a claimed item names its claim and does nothing
when the claim was lost (the lease ran out and another worker took it, or the work was
cancelled)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, insert, select, update

from heron.store.sql.database import fetch, run
from heron.store.sql.jobs_tables import work_queue
from heron.store.sql.leases import Claim, LeaseQueue
from heron.store.work_queue import WorkItem

w = work_queue

_enqueue = insert(w).values(
    item_id=bindparam("item_id"),
    kind=bindparam("kind"),
    subject=bindparam("subject"),
    payload=bindparam("payload"),
    claims=0,
    failures=0,
    next_attempt_at=bindparam("at"),
    lease_until=0,
    created_at=bindparam("now"),
)
_read = select(w.c.kind, w.c.subject, w.c.payload, w.c.failures, w.c.created_at).where(
    w.c.item_id == bindparam("id")
)
_owner = update(w).where(w.c.item_id == bindparam("id")).values(lease_owner=bindparam("owner"))


@functools.cache
def _leases(kind: str) -> LeaseQueue:
    return LeaseQueue(w, id_column="item_id", fence_column="claims", due_where=[w.c.kind == kind])


def enqueue(
    conn: Connection, kind: str, subject: str, payload: Mapping[str, Any], *, at: int, now: int
) -> str:
    """Queues a piece of work, due at `at` (ms), in `conn`'s transaction."""
    item_id = str(uuid.uuid4())
    params = {"item_id": item_id, "kind": kind, "subject": subject, "at": at, "now": now}
    run(conn, _enqueue, {**params, "payload": orjson.dumps(dict(payload)).decode()})
    return item_id


def claim(conn: Connection, kind: str, now: int, lease_ms: int, owner: str) -> WorkItem | None:
    """Claims one due item of `kind` until `now + lease_ms`; None when nothing is due."""
    held = _leases(kind).claim(conn, now, lease_ms)
    if held is None:
        return None
    run(conn, _owner, {"id": held.id, "owner": owner[:128]})
    kind_, subject, payload, failures, created_at = fetch(conn, _read, {"id": held.id})[0]
    return WorkItem(
        item_id=held.id,
        kind=kind_,
        subject=subject,
        payload=orjson.loads(payload),
        claim=held.token,
        failures=failures,
        created_at=created_at,
    )


def _held(item: WorkItem) -> Claim:
    return Claim(item.item_id, item.claim)


def extend(conn: Connection, item: WorkItem, until: int) -> bool:
    """Keeps the lease until `until`; False when the claim was lost."""
    return _leases(item.kind).extend(conn, _held(item), until)


def advance(conn: Connection, item: WorkItem, payload: Mapping[str, Any], *, at: int) -> bool:
    """The item's next step: a new payload, no failures yet, due at `at`, no longer held."""
    return _change(conn, item, payload=orjson.dumps(dict(payload)).decode(), failures=0, at=at)


def retry(conn: Connection, item: WorkItem, *, at: int) -> bool:
    """Counts a failed attempt and makes the item due again at `at`."""
    return _change(conn, item, failures=item.failures + 1, at=at)


def release(conn: Connection, item: WorkItem, *, at: int) -> bool:
    """Gives the item back, due again at `at`, without counting a failure (a wait)."""
    return _leases(item.kind).release(conn, _held(item), at)


def complete(conn: Connection, item: WorkItem) -> bool:
    """The work is done: the item leaves the queue."""
    return _leases(item.kind).remove(conn, _held(item))


def holds(conn: Connection, item: WorkItem) -> bool:
    """Whether the worker still holds `item` (nobody claimed it since, it was not dropped);
    the row stays locked until the transaction ends (PostgreSQL), so it stays that way."""
    found = conn.execute(
        select(w.c.item_id)
        .where(w.c.item_id == item.item_id, w.c.claims == item.claim)
        .with_for_update()
    ).first()
    return found is not None


def lock(conn: Connection, subject: str) -> None:
    """Locks the items of `subject` until the transaction ends (PostgreSQL; SQLite has one
    writer at a time). Every change to what a worker holds takes these locks first, then the
    locks of what it works on, so two changes never wait on each other in a circle."""
    conn.execute(select(w.c.item_id).where(w.c.subject == subject).with_for_update()).all()


def wake(conn: Connection, subject: str, *, at: int) -> None:
    """Makes the items of `subject` due at `at` (a worker holding one keeps its lease)."""
    conn.execute(update(w).where(w.c.subject == subject).values(next_attempt_at=at))


def drop(conn: Connection, subject: str) -> None:
    """Removes every item of `subject` (its work was cancelled)."""
    conn.execute(delete(w).where(w.c.subject == subject))


def _change(conn: Connection, item: WorkItem, *, at: int, **values: Any) -> bool:
    held = _held(item)
    statement = (
        update(w)
        .where(_leases(item.kind).holds(held))
        .values(next_attempt_at=at, lease_until=0, lease_owner=None, **values)
    )
    return conn.execute(statement).rowcount == 1
