"""Webhooks on registry events: MLflow's API, signed deliveries, retries and a delivery log.

A delivery is a JSON POST `{"entity", "action", "timestamp", "data"}` with MLflow's headers:
`X-MLflow-Delivery-Id`, `X-MLflow-Timestamp` (Unix seconds) and, when the webhook has a
secret, `X-MLflow-Signature: v1,<base64 HMAC-SHA256 of "<delivery id>.<timestamp>.<body>">`.
Deliveries wait in a durable queue (the store writes them in the transaction of the registry
change); failed attempts (no answer, 408, 429, 5xx) are retried with exponential backoff, by
whichever dispatcher on the database claims them; every attempt is logged. Only http(s) URLs
whose host the administrator listed in `Settings.webhook_allowed_hosts` are accepted or called
(none by default), and redirects are never followed, so a webhook cannot make the server reach
anything else."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
import urllib.parse
import uuid
from collections.abc import Sequence
from dataclasses import replace
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
from heron.services.access import Action, Authorizer, authorize
from heron.services.background import PollingWorkers
from heron.services.changes import changed, changed_fields, noting
from heron.store.registry import QueuedDelivery, WebhookStore, delivery_body

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
    # Heron's own: a deployment job's run of a model version (not in MLflow's enum).
    "DEPLOYMENT_JOB": (
        "STARTED",
        "TASK_FINISHED",
        "APPROVAL_REQUESTED",
        "DEPLOYED",
        "ROLLED_BACK",
        "FINISHED",
    ),
}
MAX_NAME = 256
MAX_URL = 2048
MAX_SECRET = 1000
MAX_LIST = 1000
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
_BODY_PREVIEW = 1000
_log = logging.getLogger(__name__)


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
    """Works off the durable queue of deliveries on background threads; sends test
    deliveries at once.

    Registry changes queue their deliveries in their own transaction (the store does it), so
    a delivery waiting, or waiting for a retry, when the server stops is made by the next
    dispatcher on the same database. Each worker claims one due delivery at a time with a
    lease longer than any attempt can take, so with several servers (or workers) each attempt
    is made by one of them."""

    def __init__(
        self,
        store: WebhookStore,
        allowed_hosts: Sequence[str],
        *,
        attempts: int = 3,
        backoff_s: float = 0.5,
        timeout_s: float = 10.0,
        poll_interval_s: float = 0.5,
        workers: int = 2,
    ) -> None:
        self._store = store
        self.allowed_hosts = tuple(allowed_hosts)
        self._attempts = attempts
        self._backoff_s = backoff_s
        self._lease_ms = int((2 * timeout_s + 5) * 1000)
        self._http = httpx.Client(timeout=timeout_s, follow_redirects=False)
        self._workers = PollingWorkers(
            "heron-webhooks",
            lambda: self._store.claim_delivery(now_ms(), self._lease_ms),
            self._deliver,
            threads=workers,
            poll_interval_s=poll_interval_s,
        )

    def start(self) -> None:
        """Starts the workers; none when no host is allowed, since nothing could be sent."""
        if self.allowed_hosts:
            self._workers.start()

    def close(self) -> None:
        """Stops the workers once their attempt in flight is done (at most the timeout);
        what is still queued stays queued for the next dispatcher."""
        self._workers.close()
        self._http.close()

    def _deliver(self, job: QueuedDelivery) -> None:
        delivery, response = self.attempt(
            job.webhook,
            WebhookEvent(job.entity, job.action),
            job.body,
            job.delivery_id,
            job.attempt,
        )
        retry_at = None
        if not delivery.success and job.attempt < self._attempts and _retryable(delivery, response):
            retry_at = now_ms() + int(self._backoff_s * 2 ** (job.attempt - 1) * 1000)
        try:
            self._store.finish_delivery(delivery, retry_at)
        except Exception:  # the lease runs out and the attempt is made again
            _log.exception("Could not record webhook delivery %s", job.delivery_id)

    def send_test(
        self, webhook: Webhook, event: WebhookEvent
    ) -> tuple[WebhookDelivery, httpx.Response | None]:
        """One example delivery now, logged, with no retries."""
        body = delivery_body(event.entity, event.action, _example(event), now_ms())
        delivery, response = self.attempt(webhook, event, body, str(uuid.uuid4()), 1)
        self._store.record_delivery(delivery)
        return delivery, response

    def attempt(
        self, webhook: Webhook, event: WebhookEvent, body: str, delivery_id: str, attempt: int
    ) -> tuple[WebhookDelivery, httpx.Response | None]:
        """POSTs `body`, signed now; the delivery log entry and the answer (None if none)."""
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
        except InvalidParameter as exc:
            return replace(logged, error=str(exc)[:_BODY_PREVIEW]), None
        try:
            response = self._http.post(webhook.url, content=body.encode(), headers=headers)
        except httpx.HTTPError as exc:
            failure = f"{type(exc).__name__}: {exc}"[:_BODY_PREVIEW]
            return replace(logged, error=failure), None
        ok = 200 <= response.status_code < 300
        error = None if ok else f"HTTP {response.status_code}"
        return replace(logged, status_code=response.status_code, success=ok, error=error), response


def _retryable(delivery: WebhookDelivery, response: httpx.Response | None) -> bool:
    """No answer, 408, 429 and 5xx are worth another try; a refused host is not."""
    if response is None:
        return not (delivery.error or "").startswith("Webhook host")
    return response.status_code in _RETRY_STATUSES


class WebhookService:
    def __init__(
        self, store: WebhookStore, dispatcher: WebhookDispatcher, authorizer: Authorizer
    ) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._authorizer = authorizer

    def _check(self, action: Action) -> None:
        authorize(self._authorizer, action, "webhook", "")

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
        made = self._store.create_webhook(webhook)
        changed("webhook", made.webhook_id, after=_audited(made))
        return made

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
        updated = self._store.update_webhook(changed)
        after = _audited(updated)
        if updated.secret is not None and updated.secret != current.secret:
            after["secret_replaced"] = True
        changed_fields("webhook", webhook_id, _audited(current), after)
        return updated

    def delete_webhook(self, webhook_id: str) -> None:
        self._check("delete")
        before = self._store.get_webhook(webhook_id) if noting() else None
        self._store.delete_webhook(webhook_id)
        if before is not None:
            changed("webhook", webhook_id, before=_audited(before))

    def test_webhook(self, webhook_id: str, event: WebhookEvent | None = None) -> WebhookTestResult:
        """Sends one example delivery now (no retries) and says how the receiver answered."""
        self._check("update")
        webhook = self._store.get_webhook(webhook_id)
        event = event or webhook.events[0]
        check_events([event])
        delivery, response = self._dispatcher.send_test(webhook, event)
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


def _audited(w: Webhook) -> dict[str, Any]:
    """A webhook's fields for the audit log: whether it has a secret, never the secret."""
    return {
        "name": w.name, "url": w.url, "status": str(w.status), "description": w.description,
        "events": [f"{e.entity}.{e.action}" for e in w.events],
        "has_secret": w.secret is not None,
    }  # fmt: skip


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
    if event.entity == "DEPLOYMENT_JOB":
        data.update(version="1", run_id="example_run", job_id="example_job", task="deploy")
    return data
