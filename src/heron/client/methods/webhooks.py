"""Registry webhooks on `HeronClient`: MLflow's webhook methods and Heron's delivery log."""

from __future__ import annotations

from collections.abc import Sequence

from heron.client.backend import Backend
from heron.entities import Page
from heron.entities.registry import Webhook, WebhookDelivery, WebhookEvent, WebhookTestResult
from heron.errors import InvalidParameter

EventLike = WebhookEvent | tuple[str, str] | str


class WebhookMethods:
    """Mixed into `HeronClient`; `backend` is the client's backend.

    Events are `WebhookEvent("MODEL_VERSION", "CREATED")`, a pair
    `("MODEL_VERSION", "CREATED")`, or MLflow's string form `"model_version.created"`.

    Example:
        >>> hook = client.create_webhook(
        ...     "ci", "https://hooks.example.com/registry",
        ...     ["model_version.created", "model_version_alias.created"], secret="s3cret")
        >>> client.test_webhook(hook.webhook_id).success
        True
    """

    @property
    def backend(self) -> Backend:
        raise NotImplementedError  # pragma: no cover - HeronClient provides it

    def create_webhook(
        self,
        name: str,
        url: str,
        events: Sequence[EventLike],
        description: str | None = None,
        secret: str | None = None,
        status: str | None = None,
    ) -> Webhook:
        """Registers `url` for `events`; deliveries are signed with `secret` when given.

        Raises:
            InvalidParameter: an unknown event, a URL that is not http(s), or a host the
                server's administrator has not allowed.
        """
        return self.backend.webhooks.create_webhook(
            name,
            url,
            webhook_events(events),
            description=description,
            secret=secret,
            status=status,
        )

    def get_webhook(self, webhook_id: str) -> Webhook:
        """The webhook (its secret is never returned). Raises NotFound."""
        return self.backend.webhooks.get_webhook(webhook_id)

    def list_webhooks(self, max_results: int = 100, page_token: str | None = None) -> Page[Webhook]:
        return self.backend.webhooks.list_webhooks(max_results=max_results, page_token=page_token)

    def update_webhook(
        self,
        webhook_id: str,
        name: str | None = None,
        description: str | None = None,
        url: str | None = None,
        events: Sequence[EventLike] | None = None,
        secret: str | None = None,
        status: str | None = None,
    ) -> Webhook:
        """Changes the fields given (None keeps a field); `status` is ACTIVE or DISABLED."""
        return self.backend.webhooks.update_webhook(
            webhook_id,
            name=name,
            description=description,
            url=url,
            events=webhook_events(events) if events else None,
            secret=secret,
            status=status,
        )

    def delete_webhook(self, webhook_id: str) -> None:
        """Deletes the webhook with its delivery log. Raises NotFound."""
        self.backend.webhooks.delete_webhook(webhook_id)

    def test_webhook(self, webhook_id: str, event: EventLike | None = None) -> WebhookTestResult:
        """Sends one example delivery of `event` (the webhook's first event by default) now,
        and says how the receiver answered."""
        chosen = None if event is None else webhook_events([event])[0]
        return self.backend.webhooks.test_webhook(webhook_id, chosen)

    def list_webhook_deliveries(self, webhook_id: str) -> list[WebhookDelivery]:
        """Every delivery attempt (event deliveries, retries and tests), newest first."""
        return self.backend.webhooks.list_deliveries(webhook_id)


def webhook_events(events: Sequence[EventLike]) -> list[WebhookEvent]:
    """`WebhookEvent`s from any of the accepted forms. Raises InvalidParameter."""
    if isinstance(events, str | WebhookEvent):
        events = [events]
    return [_event(e) for e in events]


def _event(event: EventLike) -> WebhookEvent:
    if isinstance(event, WebhookEvent):
        return event
    if isinstance(event, str):
        entity, dot, action = event.rpartition(".")
        if dot and entity and action:
            return WebhookEvent(entity.upper(), action.upper())
    elif isinstance(event, tuple) and len(event) == 2:
        return WebhookEvent(str(event[0]).upper(), str(event[1]).upper())
    raise InvalidParameter(
        f"Invalid webhook event {event!r}: use 'model_version.created', "
        "('MODEL_VERSION', 'CREATED') or WebhookEvent('MODEL_VERSION', 'CREATED')"
    )
