"""Registry webhooks through HeronClient, in process and over HTTP, with a real local
receiver: CRUD, test deliveries, event deliveries and the delivery log."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.webhook_receiver import Receiver, receiving, signature_ok

from heron import HeronClient
from heron.entities.registry import WebhookEvent, WebhookStatus
from heron.errors import InvalidParameter, NotFound
from heron.settings import Settings


@pytest.fixture(autouse=True)
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """In process, the allowed hosts come from the environment."""
    monkeypatch.setenv("HERON_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1")


@pytest.fixture
def live_server(tmp_path: Path, serve_settings: Any) -> Iterator[str]:
    """The shared `client` fixture's server, allowed to call the local receiver."""
    (tmp_path / "server").mkdir()
    settings = Settings.for_home(tmp_path / "server", webhook_allowed_hosts=("127.0.0.1",))
    with serve_settings(settings) as url:
        yield url


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as state:
        yield state


def _wait_for_log(client: HeronClient, webhook_id: str, count: int) -> list[Any]:
    deadline = time.monotonic() + 10
    while True:
        log = client.list_webhook_deliveries(webhook_id)
        if len(log) >= count or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


def test_create_get_list_update_delete(client: HeronClient, receiver: Receiver) -> None:
    hook = client.create_webhook(
        "ci",
        receiver.url,
        ["model_version.created", ("MODEL_VERSION_ALIAS", "CREATED")],
        description="d",
        secret="s3cret",  # noqa: S106 - a test secret
    )
    assert list(hook.events) == [
        WebhookEvent("MODEL_VERSION", "CREATED"),
        WebhookEvent("MODEL_VERSION_ALIAS", "CREATED"),
    ]
    got = client.get_webhook(hook.webhook_id)
    assert (got.name, got.url, got.description, got.status) == (
        "ci",
        receiver.url,
        "d",
        WebhookStatus.ACTIVE,
    )
    assert [w.webhook_id for w in client.list_webhooks()] == [hook.webhook_id]
    changed = client.update_webhook(hook.webhook_id, status="DISABLED", name="ci-2")
    assert (changed.status, changed.name) == (WebhookStatus.DISABLED, "ci-2")
    assert client.get_webhook(hook.webhook_id).events == hook.events
    client.delete_webhook(hook.webhook_id)
    with pytest.raises(NotFound):
        client.get_webhook(hook.webhook_id)
    with pytest.raises(NotFound):
        client.delete_webhook(hook.webhook_id)


def test_list_pages(client: HeronClient, receiver: Receiver) -> None:
    ids = {
        client.create_webhook(f"h{i}", receiver.url, ["registered_model.created"]).webhook_id
        for i in range(3)
    }
    first = client.list_webhooks(max_results=2)
    assert len(first) == 2
    assert first.next_page_token
    rest = client.list_webhooks(max_results=2, page_token=first.next_page_token)
    assert {w.webhook_id for w in [*first, *rest]} == ids
    assert rest.next_page_token is None


def test_test_webhook_sends_a_signed_example(client: HeronClient, receiver: Receiver) -> None:
    hook = client.create_webhook(
        "ci",
        receiver.url,
        ["model_version_tag.set"],
        secret="k",  # noqa: S106 - a test secret
    )
    result = client.test_webhook(hook.webhook_id)
    assert (result.success, result.response_status, result.response_body) == (
        True,
        200,
        "received",
    )
    headers, body = receiver.requests[0]
    assert signature_ok("k", headers, body)
    assert json.loads(body)["data"]["key"] == "example_key"
    receiver.statuses = [500]
    failed = client.test_webhook(hook.webhook_id, "model_version_tag.set")
    assert (failed.success, failed.response_status) == (False, 500)
    assert failed.error_message == "HTTP 500"
    log = client.list_webhook_deliveries(hook.webhook_id)
    assert [(d.success, d.status_code) for d in log] == [(False, 500), (True, 200)]


def test_registry_events_are_delivered_and_logged(client: HeronClient, receiver: Receiver) -> None:
    hook = client.create_webhook("ci", receiver.url, ["registered_model.created"])
    client.create_registered_model("fraud", description="d")
    receiver.wait_for(1)
    payload = json.loads(receiver.requests[0][1])
    assert (payload["entity"], payload["action"]) == ("registered_model", "created")
    assert payload["data"]["name"] == "fraud"
    log = _wait_for_log(client, hook.webhook_id, 1)
    assert [(d.entity, d.action, d.success, d.attempt) for d in log] == [
        ("REGISTERED_MODEL", "CREATED", True, 1)
    ]


@pytest.mark.parametrize(
    ("url", "events", "message"),
    [
        ("http://10.0.0.1/hook", ["model_version.created"], "not allowed"),
        ("file:///etc/passwd", ["model_version.created"], "http"),
        ("http://127.0.0.1:1/x", ["model_version.exploded"], "EXPLODED"),
        ("http://127.0.0.1:1/x", ["run.created"], "RUN"),
        ("http://127.0.0.1:1/x", [], "at least one event"),
    ],
    ids=["host-not-allowed", "file", "bad-action", "bad-entity", "no-events"],
)
def test_refused_webhooks_raise_the_same_error(
    client: HeronClient, url: str, events: list[str], message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message):
        client.create_webhook("x", url, events)


def test_malformed_event_is_refused_before_any_call(client: HeronClient) -> None:
    with pytest.raises(InvalidParameter, match=r"model_version\.created"):
        client.create_webhook("x", "http://127.0.0.1:1/x", ["created"])
