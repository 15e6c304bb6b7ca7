"""The durable queue of webhook deliveries: rows queued in the transaction of the registry
change that causes them, claimed by dispatchers with a lease (`leases.LeaseQueue`, the
mechanism background jobs use too), finished into the delivery log.

A delivery's `attempts` count its claims: at most one worker makes each attempt, and a worker
that died holding one gives it back when its lease runs out."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Connection, bindparam, delete, insert, select

from heron.clock import now_ms
from heron.entities.registry import Webhook, WebhookDelivery, WebhookEvent, WebhookStatus
from heron.store.crypto.fields import Sealer
from heron.store.registry import QueuedDelivery, delivery_body
from heron.store.sql.database import fetch, run
from heron.store.sql.leases import Claim, LeaseQueue
from heron.store.sql.tables import webhook_deliveries, webhook_queue, webhooks

q = webhook_queue

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
leases = LeaseQueue(
    q,
    id_column="delivery_id",
    fence_column="attempts",
    joined=q.join(webhooks, webhooks.c.webhook_id == q.c.webhook_id),
    due_where=[webhooks.c.status == WebhookStatus.ACTIVE.value],
)


def queue_event(
    conn: Connection,
    entity: str,
    action: str,
    data: Mapping[str, Any],
    sealer: Sealer | None = None,
) -> None:
    """Queues the event for every active webhook listening to it, in `conn`'s transaction;
    with field encryption on (`sealer`), the body waits in the queue sealed (it may hold tags
    of sensitive keys) and is opened when a dispatcher claims it.

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
    if sealer is not None:
        body = sealer.seal(body)
    for webhook_id in listening:
        params = {"webhook_id": webhook_id, "entity": entity, "action": action}
        run(conn, _enqueue, {**params, "delivery_id": str(uuid.uuid4()), "body": body, "now": now})


def anything_due(conn: Connection, now: int) -> bool:
    return leases.anything_due(conn, now)


def claim(conn: Connection, now: int, lease_ms: int) -> QueuedDelivery | None:
    held = leases.claim(conn, now, lease_ms)
    if held is None:
        return None
    row = conn.execute(
        select(q.c.entity, q.c.action, q.c.body, *webhooks.c)
        .join(webhooks, webhooks.c.webhook_id == q.c.webhook_id)
        .where(q.c.delivery_id == held.id)
    ).one()
    return QueuedDelivery(
        delivery_id=held.id,
        webhook=webhook_of(row),
        entity=row.entity,
        action=row.action,
        body=row.body,
        attempt=held.token,
    )


def finish(conn: Connection, attempt: WebhookDelivery, retry_at: int | None) -> None:
    log(conn, attempt)
    # Only while the row is still at this attempt: a worker whose lease ran out must not undo
    # the claim of the one that took the next attempt.
    held = Claim(attempt.delivery_id, attempt.attempt)
    if retry_at is None:
        leases.remove(conn, held)
    else:
        leases.release(conn, held, retry_at)


def next_due(conn: Connection) -> int | None:
    return leases.next_due(conn)


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
