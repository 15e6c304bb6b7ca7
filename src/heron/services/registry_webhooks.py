"""Webhooks on registry events: MLflow's API, signed deliveries, retries and a delivery log.

A delivery is a JSON POST `{"entity", "action", "timestamp", "data"}` with MLflow's headers:
`X-MLflow-Delivery-Id`, `X-MLflow-Timestamp` (Unix seconds) and, when the webhook has a
secret, `X-MLflow-Signature: v1,<base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>">`.
Failed attempts (no answer, 408, 429, 5xx) are retried with exponential backoff; every attempt
is logged. Only http(s) URLs whose host the administrator listed in
`Settings.webhook_allowed_hosts` are accepted or called (none by default), and redirects are
never followed, so a webhook cannot make the server reach anything else."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import httpx

from heron.clock import now_ms
from heron.entities import Page
from heron.entities.registry import (
    Webhook,
    WebhookDelivery,
    WebhookEvent,
    WebhookStatus,
    WebhookTestResult,
)
from heron.errors import InvalidParameter
from heron.services import validation as v
from heron.services.access import Action, Authorizer, current_identity
from heron.store.registry import WebhookStore

EVENTS: dict[str, tuple[str, ...]] = {
    "REGISTERED_MODEL": ("CREATED",),
    "MODEL_VERSION": ("CREATED", "UPDATED"),  # UPDATED: a legacy stage transition
    "MODEL_VERSION_TAG": ("SET", "DELETED"),
    "MODEL_VERSION_ALIAS": ("CREATED", "DELETED"),
    "PROMPT": ("CREATED",),
    "PROMPT_VERSION": ("CREATED",),
    "PROMPT_TAG": ("SET", "DELETED"),
    "PROMPT_VERSION_TAG": ("SET", "DELETED"),
    "PROMPT_ALIAS": ("CREATED", "DELETED"),
}
MAX_NAME = 256
MAX_URL = 2048
MAX_SECRET = 1000
MAX_LIST = 1000
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_BODY_PREVIEW = 1000


def check_url(url: object, allowed_hosts: Sequence[str]) -> str:
    """An http(s) URL to a host the administrator allowed. Raises InvalidParameter."""
    text = v.check_length("url", v.check_string("url", url), MAX_URL)
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidParameter(f"Webhook URL {text!r} must be an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise InvalidParameter("Webhook URLs must not carry credentials; use the secret")
    host = parts.hostname.lower()
    with_port = f"{host}:{parts.port}" if parts.port else host
    allowed = {h.lower().strip("[]") for h in allowed_hosts}
    if host not in allowed and with_port not in allowed:
        shown = ", ".join(sorted(allowed)) or "none"
        raise InvalidParameter(
            f"Webhook host {host!r} is not allowed on this server (allowed: {shown}); the "
            "administrator lists hosts in Settings.webhook_allowed_hosts"
        )
    return text


def check_events(events: Sequence[WebhookEvent]) -> list[WebhookEvent]:
    if not events:
        raise InvalidParameter("A webhook needs at least one event, e.g. MODEL_VERSION CREATED")
    for event in events:
        actions = EVENTS.get(event.entity)
        if actions is None:
            raise InvalidParameter(
                f"Unknown webhook entity {event.entity!r}; use one of {', '.join(EVENTS)}"
            )
        if event.action not in actions:
            raise InvalidParameter(
                f"{event.entity} has no {event.action!r} events; use one of {', '.join(actions)}"
            )
    return list(dict.fromkeys(events))


def signature(secret: str, delivery_id: str, timestamp: str, body: str) -> str:
    digest = hmac.new(
        secret.encode(), f"{delivery_id}.{timestamp}.{body}".encode(), hashlib.sha256
    ).digest()
    return "v1," + base64.b64encode(digest).decode()


class WebhookDispatcher:
    """Delivers events to the webhooks that listen to them, on background threads."""

    def __init__(
        self,
        store: WebhookStore,
        allowed_hosts: Sequence[str],
        *,
        attempts: int = 3,
        backoff_s: float = 0.5,
        timeout_s: float = 10.0,
    ) -> None:
        self._store = store
        self.allowed_hosts = tuple(allowed_hosts)
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._http = httpx.Client(timeout=timeout_s, follow_redirects=False)
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="heron-webhooks")

    def publish(self, entity: str, action: str, data: Mapping[str, Any]) -> None:
        """Queues a delivery to each active webhook listening to (entity, action)."""
        if not self.allowed_hosts:
            return  # no webhook can exist: skip the lookup on every registry write
        event = WebhookEvent(entity, action)
        for webhook in _all_webhooks(self._store):
            if webhook.status is WebhookStatus.ACTIVE and event in webhook.events:
                self._pool.submit(self.deliver, webhook, event, dict(data), self._attempts)

    def deliver(
        self, webhook: Webhook, event: WebhookEvent, data: Mapping[str, Any], attempts: int
    ) -> tuple[WebhookDelivery, httpx.Response | None]:
        """Sends one event, retrying up to `attempts` times; logs and returns the last try."""
        body = json.dumps(
            {
                "entity": event.entity.lower(),
                "action": event.action.lower(),
                "timestamp": datetime.now(UTC).isoformat(),
                "data": dict(data),
            }
        )
        delivery_id = str(uuid.uuid4())
        for attempt in range(1, attempts + 1):
            delivery, response = self._attempt(webhook, event, body, delivery_id, attempt)
            self._store.record_delivery(delivery)
            retry = response is None or response.status_code in _RETRY_STATUSES
            if delivery.success or not retry or attempt == attempts:
                return delivery, response
            time.sleep(self._backoff_s * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(
        self, webhook: Webhook, event: WebhookEvent, body: str, delivery_id: str, attempt: int
    ) -> tuple[WebhookDelivery, httpx.Response | None]:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-MLflow-Delivery-Id": delivery_id,
            "X-MLflow-Timestamp": timestamp,
        }
        if webhook.secret:
            headers["X-MLflow-Signature"] = signature(webhook.secret, delivery_id, timestamp, body)
        logged = WebhookDelivery(
            delivery_id=delivery_id,
            attempt=attempt,
            webhook_id=webhook.webhook_id,
            entity=event.entity,
            action=event.action,
            timestamp=now_ms(),
            success=False,
        )
        try:
            check_url(webhook.url, self.allowed_hosts)  # the allowed hosts may have changed
            response = self._http.post(webhook.url, content=body.encode(), headers=headers)
        except (InvalidParameter, httpx.HTTPError) as exc:
            return replace(logged, error=str(exc)[:_BODY_PREVIEW]), None
        ok = 200 <= response.status_code < 300
        error = None if ok else f"HTTP {response.status_code}"
        return replace(logged, status_code=response.status_code, success=ok, error=error), response

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._http.close()


class WebhookService:
    def __init__(
        self, store: WebhookStore, dispatcher: WebhookDispatcher, authorizer: Authorizer
    ) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._authorizer = authorizer

    def _check(self, action: Action) -> None:
        self._authorizer.check(current_identity(), action, "registered_model", "")

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
        self._check("create")
        now = now_ms()
        webhook = Webhook(
            webhook_id=str(uuid.uuid4()),
            name=_name(name),
            url=check_url(url, self._dispatcher.allowed_hosts),
            events=check_events(events),
            status=_status(status or "ACTIVE"),
            description=description,
            secret=_secret(secret),
            creation_timestamp=now,
            last_updated_timestamp=now,
        )
        return self._store.create_webhook(webhook)

    def get_webhook(self, webhook_id: str) -> Webhook:
        self._check("read")
        return self._store.get_webhook(v.check_string("webhook_id", webhook_id))

    def list_webhooks(
        self, *, max_results: int = 100, page_token: str | None = None
    ) -> Page[Webhook]:
        self._check("read")
        return self._store.list_webhooks(
            max_results=v.check_max_results(max_results, MAX_LIST), page_token=page_token or None
        )

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
        self._check("update")
        current = self._store.get_webhook(webhook_id)
        changed = replace(
            current,
            name=current.name if name is None else _name(name),
            description=current.description if description is None else description,
            url=current.url if url is None else check_url(url, self._dispatcher.allowed_hosts),
            events=current.events if not events else check_events(events),
            secret=current.secret if secret is None else _secret(secret),
            status=current.status if status is None else _status(status),
            last_updated_timestamp=now_ms(),
        )
        return self._store.update_webhook(changed)

    def delete_webhook(self, webhook_id: str) -> None:
        self._check("delete")
        self._store.delete_webhook(webhook_id)

    def test_webhook(self, webhook_id: str, event: WebhookEvent | None = None) -> WebhookTestResult:
        """Sends one example delivery now (no retries) and says how the receiver answered."""
        self._check("update")
        webhook = self._store.get_webhook(webhook_id)
        event = event or webhook.events[0]
        check_events([event])
        delivery, response = self._dispatcher.deliver(webhook, event, _example(event), 1)
        return WebhookTestResult(
            success=delivery.success,
            response_status=delivery.status_code,
            response_body=None if response is None else response.text[:_BODY_PREVIEW],
            error_message=None if delivery.success else delivery.error,
        )

    def list_deliveries(self, webhook_id: str) -> list[WebhookDelivery]:
        """The delivery log, newest attempt first."""
        self._check("read")
        self._store.get_webhook(webhook_id)
        return self._store.list_deliveries(webhook_id)


def _all_webhooks(store: WebhookStore) -> list[Webhook]:
    found: list[Webhook] = []
    token: str | None = None
    while True:
        page = store.list_webhooks(max_results=MAX_LIST, page_token=token)
        found.extend(page)
        token = page.next_page_token
        if not token:
            return found


def _name(name: object) -> str:
    text = v.check_string("name", name)
    if not text.strip():
        raise InvalidParameter("Missing value for required parameter 'name'")
    return v.check_length("Webhook name", text, MAX_NAME)


def _secret(secret: str | None) -> str | None:
    if secret is None or secret == "":
        return None
    return v.check_length("Webhook secret", v.check_string("secret", secret), MAX_SECRET)


def _status(status: str) -> WebhookStatus:
    try:
        return WebhookStatus(status)
    except ValueError:
        raise InvalidParameter(
            f"Webhook status must be ACTIVE or DISABLED, got {status!r}"
        ) from None


def _example(event: WebhookEvent) -> dict[str, Any]:
    data: dict[str, Any] = {"name": "example_model"}
    if event.entity.endswith("VERSION") or event.entity.endswith("VERSION_TAG"):
        data["version"] = "1"
    if event.entity.endswith("TAG"):
        data.update(key="example_key", value="example_value")
    if event.entity.endswith("ALIAS"):
        data.update(alias="example_alias", version="1")
    return data
