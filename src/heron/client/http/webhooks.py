"""Webhooks over HTTP: MLflow's /api/2.0/mlflow/webhooks routes and Heron's delivery log."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence

from heron.client.http.transport import Transport
from heron.entities import Page
from heron.entities.registry import (
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookStatus,
    WebhookTestResult,
)
from heron.mlflow_json import Json

API = "/api/2.0/mlflow/webhooks"
HERON_API = "/api/2.0/heron"


class HttpWebhooks:
    """The `WebhookApi` methods over a transport (`heron.client.http.transport.Transport`)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[WebhookEvent],
        *,
        description: str | None = None,
        secret: str | None = None,
        status: str | None = None,
    ) -> Webhook:
        body = {
            "name": name,
            "url": url,
            "events": _events_out(events),
            "description": description,
            "secret": secret,
            "status": status,
        }
        return webhook_in(self._t.post(API, body)["webhook"])

    def get_webhook(self, webhook_id: str) -> Webhook:
        return webhook_in(self._t.get(_one(webhook_id), {})["webhook"])

    def list_webhooks(
        self, *, max_results: int = 100, page_token: str | None = None
    ) -> Page[Webhook]:
        query = {"max_results": max_results, "page_token": page_token or None}
        body = self._t.get(API, query)
        items = [webhook_in(w) for w in body.get("webhooks", ())]
        return Page(items, body.get("next_page_token") or None)

    def update_webhook(
        self,
        webhook_id: str,
        *,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[WebhookEvent] | None = None,
        secret: str | None = None,
        status: str | None = None,
    ) -> Webhook:
        body = {
            "name": name,
            "description": description,
            "url": url,
            "events": _events_out(events) if events else None,
            "secret": secret,
            "status": status,
        }
        return webhook_in(self._t.send_json("PATCH", _one(webhook_id), body)["webhook"])

    def delete_webhook(self, webhook_id: str) -> None:
        self._t.send_json("DELETE", _one(webhook_id), {})

    def test_webhook(self, webhook_id: str, event: WebhookEvent | None = None) -> WebhookTestResult:
        body = {} if event is None else {"event": _events_out([event])[0]}
        result = self._t.post(f"{_one(webhook_id)}/test", body).get("result", {})
        return WebhookTestResult(
            success=bool(result.get("success", False)),
            response_status=result.get("response_status"),
            response_body=result.get("response_body") or None,
            error_message=result.get("error_message") or None,
        )

    def list_deliveries(self, webhook_id: str) -> list[WebhookDelivery]:
        body = self._t.get(f"{HERON_API}/webhooks/deliveries", {"webhook_id": webhook_id})
        return [delivery_in(d) for d in body.get("deliveries", ())]


def _one(webhook_id: str) -> str:
    return f"{API}/{urllib.parse.quote(webhook_id, safe='')}"


def _events_out(events: Sequence[WebhookEvent]) -> list[dict[str, str]]:
    return [{"entity": e.entity, "action": e.action} for e in events]


def webhook_in(body: Json) -> Webhook:
    return Webhook(
        webhook_id=str(body.get("webhook_id", "")),
        name=str(body.get("name", "")),
        url=str(body.get("url", "")),
        events=[WebhookEvent(str(e["entity"]), str(e["action"])) for e in body.get("events", ())],
        status=WebhookStatus(body.get("status") or "ACTIVE"),
        creation_timestamp=int(body.get("creation_timestamp", 0)),
        last_updated_timestamp=int(body.get("last_updated_timestamp", 0)),
        description=body.get("description") or None,
    )


def delivery_in(body: Json) -> WebhookDelivery:
    status_code = body.get("status_code")
    return WebhookDelivery(
        delivery_id=str(body.get("delivery_id", "")),
        attempt=int(body.get("attempt", 0)),
        webhook_id=str(body.get("webhook_id", "")),
        entity=str(body.get("entity", "")),
        action=str(body.get("action", "")),
        timestamp=int(body.get("timestamp", 0)),
        success=bool(body.get("success", False)),
        status_code=None if status_code is None else int(status_code),
        error=body.get("error") or None,
    )
