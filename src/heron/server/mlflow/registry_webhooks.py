"""MLflow REST: /webhooks (create, list, get, update, delete, test); the webhook id is a path
parameter, read together with the body or the query like any proto field."""

from __future__ import annotations

from heron.entities.registry import Webhook, WebhookEvent
from heron.server.mlflow import messages as m
from heron.server.wire import Endpoints, Fields, Handler, Json
from heron.services.access import Policy, requires
from heron.services.registry_webhooks import WebhookService
from heron.web.routes import PolicyRoute


def webhook(w: Webhook) -> Json:
    body: Json = {
        "webhook_id": w.webhook_id,
        "name": w.name,
        "url": w.url,
        "events": [{"entity": e.entity, "action": e.action} for e in w.events],
        "status": str(w.status),
        "creation_timestamp": w.creation_timestamp,
        "last_updated_timestamp": w.last_updated_timestamp,
    }
    if w.description:
        body["description"] = w.description
    return body


def _events(f: Fields) -> list[WebhookEvent]:
    return [
        WebhookEvent(e.required_string("entity"), e.required_string("action"))
        for e in f.messages("events")
    ]


def routes(service: WebhookService, limit: int) -> list[PolicyRoute]:
    def create(f: Fields) -> Json:
        created = service.create_webhook(
            f.required_string("name"),
            f.required_string("url"),
            _events(f),
            description=f.string("description"),
            secret=f.string("secret"),
            status=f.string("status"),
        )
        return {"webhook": webhook(created)}

    def list_webhooks(f: Fields) -> Json:
        max_results = f.int32("max_results")
        page = service.list_webhooks(
            max_results=100 if max_results is None else max_results,
            page_token=f.string("page_token"),
        )
        body: Json = {"webhooks": [webhook(w) for w in page]} if page.items else {}
        return m.with_page_token(body, page.next_page_token)

    def get(f: Fields) -> Json:
        return {"webhook": webhook(service.get_webhook(f.required_string("webhook_id")))}

    def update(f: Fields) -> Json:
        changed = service.update_webhook(
            f.required_string("webhook_id"),
            name=f.string("name"),
            description=f.string("description"),
            url=f.string("url"),
            events=_events(f) or None,
            secret=f.string("secret"),
            status=f.string("status"),
        )
        return {"webhook": webhook(changed)}

    def delete(f: Fields) -> Json:
        service.delete_webhook(f.required_string("webhook_id"))
        return {}

    def test(f: Fields) -> Json:
        event = f.message("event")
        chosen = (
            None
            if event is None
            else WebhookEvent(event.required_string("entity"), event.required_string("action"))
        )
        result = service.test_webhook(f.required_string("webhook_id"), chosen)
        body: Json = {"success": result.success}
        if result.response_status is not None:
            body["response_status"] = result.response_status
        if result.response_body:
            body["response_body"] = result.response_body
        if result.error_message:
            body["error_message"] = result.error_message
        return {"result": body}

    # Handlers run in the threadpool (they may wait on a receiver); every body is JSON.
    api = Endpoints(limit, inline=False)

    def route(method: str, path: str, handler: Handler, policy: Policy) -> PolicyRoute:
        return api.with_path(method, path, handler, policy, strict_content_type=False)

    one = "/webhooks/{webhook_id}"
    updates = requires("update", "webhook", "webhook_id")
    return [
        route("POST", "/webhooks", create, requires("create", "webhook")),
        route("GET", "/webhooks", list_webhooks, requires("read", "webhook")),
        route("GET", one, get, requires("read", "webhook", "webhook_id")),
        route("PATCH", one, update, updates),
        route("DELETE", one, delete, requires("delete", "webhook", "webhook_id")),
        route("POST", one + "/test", test, updates),
    ]
