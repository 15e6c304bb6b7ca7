"""The durable queue of webhook deliveries: rows queued in the transaction of the registry
change that causes them, claimed by dispatchers with a lease, finished into the delivery log.

A claim is a compare-and-set (`UPDATE ... SET attempts = attempts + 1, lease_until = :until
WHERE delivery_id = :id AND attempts = :seen AND lease_until < :now`): on SQLite and
PostgreSQL alike at most one worker gets each attempt, and a worker that died holding one
gives it back when its lease runs out."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Connection, and_, bindparam, delete, func, insert, select, update

from heron.clock import now_ms
from heron.entities.registry import Webhook, WebhookDelivery, WebhookEvent, WebhookStatus
from heron.store.registry import QueuedDelivery, delivery_body
from heron.store.sql.database import fetch, run
from heron.store.sql.tables import webhook_deliveries, webhook_queue, webhooks

q = webhook_queue
_CANDIDATES = 8  # due rows looked at per claim (others may be taking the first ones)

_listening = select(webhooks.c.webhook_id, webhooks.c.events).where(
    webhooks.c.status == WebhookStatus.ACTIVE.value
)
_enqueue = insert(q).values(
    delivery_id=bindparam("delivery_id"),
    webhook_id=bindparam("webhook_id"),
    entity=bindparam("entity"),
    action=bindparam("action"),
    body=bindparam("body"),
    attempts=0,
    next_attempt_at=bindparam("now"),
    lease_until=0,
    created_at=bindparam("now"),
)
_due = (
    select(q.c.delivery_id, q.c.attempts)
    .join(webhooks, webhooks.c.webhook_id == q.c.webhook_id)
    .where(
        q.c.next_attempt_at <= bindparam("now"),
        q.c.lease_until < bindparam("now"),
        webhooks.c.status == WebhookStatus.ACTIVE.value,
    )
    .order_by(q.c.next_attempt_at)
    .limit(_CANDIDATES)
)
_claim = (
    update(q)
    .where(
        q.c.delivery_id == bindparam("id"),
        q.c.attempts == bindparam("seen"),
        q.c.lease_until < bindparam("now"),
    )
    .values(attempts=q.c.attempts + 1, lease_until=bindparam("until"))
)


def queue_event(conn: Connection, entity: str, action: str, data: Mapping[str, Any]) -> None:
    """Queues the event for every active webhook listening to it, in `conn`'s transaction.

    Costs one query on the (small) webhooks table when nobody listens."""
    listening = [
        webhook_id
        for webhook_id, events in fetch(conn, _listening, {})
        if [entity, action] in orjson.loads(events)
    ]
    if not listening:
        return
    now = now_ms()
    body = delivery_body(entity, action, data, now)
    for webhook_id in listening:
        params = {"webhook_id": webhook_id, "entity": entity, "action": action}
        run(conn, _enqueue, {**params, "delivery_id": str(uuid.uuid4()), "body": body, "now": now})


def anything_due(conn: Connection, now: int) -> bool:
    return bool(fetch(conn, _due, {"now": now}))


def claim(conn: Connection, now: int, lease_ms: int) -> QueuedDelivery | None:
    for delivery_id, seen in fetch(conn, _due, {"now": now}):
        params = {"id": delivery_id, "seen": seen, "now": now, "until": now + lease_ms}
        if run(conn, _claim, params) != 1:
            continue  # another worker took this attempt first
        row = conn.execute(
            select(q.c.entity, q.c.action, q.c.body, *webhooks.c)
            .join(webhooks, webhooks.c.webhook_id == q.c.webhook_id)
            .where(q.c.delivery_id == delivery_id)
        ).one()
        return QueuedDelivery(
            delivery_id=delivery_id,
            webhook=webhook_of(row),
            entity=row.entity,
            action=row.action,
            body=row.body,
            attempt=seen + 1,
        )
    return None


def finish(conn: Connection, attempt: WebhookDelivery, retry_at: int | None) -> None:
    log(conn, attempt)
    # Only while the row is still at this attempt: a worker whose lease ran out must not undo
    # the claim of the one that took the next attempt.
    where = and_(q.c.delivery_id == attempt.delivery_id, q.c.attempts == attempt.attempt)
    if retry_at is None:
        conn.execute(delete(q).where(where))
    else:
        conn.execute(update(q).where(where).values(next_attempt_at=retry_at, lease_until=0))


def next_due(conn: Connection) -> int | None:
    found = conn.execute(select(func.min(q.c.next_attempt_at))).scalar_one_or_none()
    return None if found is None else int(found)


def drop_pending(conn: Connection, webhook_id: str) -> None:
    """A disabled webhook's deliveries that were not made are not made later either."""
    conn.execute(delete(q).where(q.c.webhook_id == webhook_id))


def log(conn: Connection, delivery: WebhookDelivery) -> None:
    """Appends one attempt to the delivery log, unless its webhook is gone by now."""
    exists = conn.execute(
        select(webhooks.c.webhook_id).where(webhooks.c.webhook_id == delivery.webhook_id)
    ).first()
    if exists is None:
        return
    conn.execute(
        insert(webhook_deliveries).values(
            delivery_id=delivery.delivery_id,
            attempt=delivery.attempt,
            webhook_id=delivery.webhook_id,
            entity=delivery.entity,
            action=delivery.action,
            timestamp=delivery.timestamp,
            status_code=delivery.status_code,
            error=delivery.error,
            success=delivery.success,
        )
    )


def webhook_of(row: Any) -> Webhook:
    return Webhook(
        webhook_id=row.webhook_id,
        name=row.name,
        description=row.description,
        url=row.url,
        events=[WebhookEvent(entity, action) for entity, action in orjson.loads(row.events)],
        secret=row.secret,
        status=WebhookStatus(row.status),
        creation_timestamp=row.creation_timestamp,
        last_updated_timestamp=row.last_updated_timestamp,
    )
