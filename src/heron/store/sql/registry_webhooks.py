"""SqlWebhookStore: webhooks, their queue of deliveries and their delivery log in SQL."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from heron.entities import Page
from heron.entities.registry import Webhook, WebhookDelivery, WebhookStatus
from heron.errors import InvalidParameter, NotFound
from heron.store.crypto.fields import Sealer
from heron.store.registry import QueuedDelivery
from heron.store.sql import registry_queue
from heron.store.sql.database import Database
from heron.store.sql.registry_queue import webhook_of
from heron.store.sql.tables import webhook_deliveries, webhooks

_DELIVERY_LOG = 1000  # attempts kept per listing


class SqlWebhookStore:
    """Webhooks and their delivery queue. With field encryption on, secrets are stored
    encrypted."""

    def __init__(self, database: Database, sealer: Sealer | None = None) -> None:
        self._db = database
        self._sealer = sealer or Sealer(None)

    def _sealed(self, webhook: Webhook) -> dict[str, Any]:
        values = _row(webhook)
        values["secret"] = self._sealer.seal_optional(webhook.secret)
        return values

    def _opened(self, webhook: Webhook) -> Webhook:
        what = f"The secret of webhook {webhook.webhook_id!r}"
        secret = self._sealer.open_optional(webhook.secret, what)
        return webhook if secret == webhook.secret else dataclasses.replace(webhook, secret=secret)

    def create_webhook(self, webhook: Webhook) -> Webhook:
        def create(conn: Connection) -> Webhook:
            conn.execute(insert(webhooks).values(**self._sealed(webhook)))
            return webhook

        return self._db.write(create)

    def get_webhook(self, webhook_id: str) -> Webhook:
        with self._db.read() as conn:
            row = conn.execute(select(webhooks).where(webhooks.c.webhook_id == webhook_id)).first()
        if row is None:
            raise NotFound(f"Webhook with ID {webhook_id} not found")
        return self._opened(webhook_of(row))

    def list_webhooks(self, *, max_results: int, page_token: str | None) -> Page[Webhook]:
        stmt = select(webhooks).order_by(webhooks.c.webhook_id).limit(max_results + 1)
        if page_token:
            if len(page_token) > 64:
                raise InvalidParameter("Invalid page_token for listing webhooks")
            stmt = stmt.where(webhooks.c.webhook_id > page_token)
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
        items = [self._opened(webhook_of(row)) for row in rows[:max_results]]
        more = len(rows) > max_results
        return Page(items, items[-1].webhook_id if more else None)

    def update_webhook(self, webhook: Webhook) -> Webhook:
        def change(conn: Connection) -> Webhook:
            values = self._sealed(webhook)
            del values["webhook_id"], values["creation_timestamp"]
            done = conn.execute(
                update(webhooks).where(webhooks.c.webhook_id == webhook.webhook_id).values(**values)
            )
            if done.rowcount == 0:
                raise NotFound(f"Webhook with ID {webhook.webhook_id} not found")
            if webhook.status is not WebhookStatus.ACTIVE:
                registry_queue.drop_pending(conn, webhook.webhook_id)
            return webhook

        return self._db.write(change)

    def delete_webhook(self, webhook_id: str) -> None:
        def remove(conn: Connection) -> None:
            gone = conn.execute(delete(webhooks).where(webhooks.c.webhook_id == webhook_id))
            if gone.rowcount == 0:
                raise NotFound(f"Webhook with ID {webhook_id} not found")

        self._db.write(remove)

    def record_delivery(self, delivery: WebhookDelivery) -> None:
        self._db.write(lambda conn: registry_queue.log(conn, delivery))

    def claim_delivery(self, now: int, lease_ms: int) -> QueuedDelivery | None:
        with self._db.read() as conn:  # most polls find nothing: no write for them
            if not registry_queue.anything_due(conn, now):
                return None
        claimed = self._db.write(lambda conn: registry_queue.claim(conn, now, lease_ms))
        if claimed is None:
            return None
        body = self._sealer.open(claimed.body, f"The body of delivery {claimed.delivery_id!r}")
        return dataclasses.replace(claimed, webhook=self._opened(claimed.webhook), body=body)

    def finish_delivery(self, attempt: WebhookDelivery, retry_at: int | None) -> None:
        self._db.write(lambda conn: registry_queue.finish(conn, attempt, retry_at))

    def next_due(self) -> int | None:
        with self._db.read() as conn:
            return registry_queue.next_due(conn)

    def list_deliveries(self, webhook_id: str) -> list[WebhookDelivery]:
        d = webhook_deliveries
        with self._db.read() as conn:
            rows = conn.execute(
                select(d)
                .where(d.c.webhook_id == webhook_id)
                .order_by(d.c.timestamp.desc(), d.c.attempt.desc())
                .limit(_DELIVERY_LOG)
            ).all()
        return [
            WebhookDelivery(
                delivery_id=row.delivery_id,
                attempt=row.attempt,
                webhook_id=row.webhook_id,
                entity=row.entity,
                action=row.action,
                timestamp=row.timestamp,
                success=bool(row.success),
                status_code=row.status_code,
                error=row.error,
            )
            for row in rows
        ]


def _row(webhook: Webhook) -> dict[str, Any]:
    return {
        "webhook_id": webhook.webhook_id,
        "name": webhook.name,
        "description": webhook.description,
        "url": webhook.url,
        "events": orjson.dumps([[e.entity, e.action] for e in webhook.events]).decode(),
        "secret": webhook.secret,
        "status": webhook.status.value,
        "creation_timestamp": webhook.creation_timestamp,
        "last_updated_timestamp": webhook.last_updated_timestamp,
    }
