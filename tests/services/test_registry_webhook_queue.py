"""The durable webhook queue, on SQLite and PostgreSQL: deliveries are queued with the registry
change, survive a stop of the service, and each attempt is made by one dispatcher only."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.webhook_receiver import Receiver, receiving, signature_ok

from heron.entities.registry import WebhookEvent
from heron.services import AllowAll
from heron.services.registry import RegistryService
from heron.services.registry_webhooks import WebhookDispatcher, WebhookService
from heron.settings import PROXIED_ARTIFACT_ROOT
from heron.store.sql import open_sql_stores

HOSTS = ("127.0.0.1",)
SECRET = "s3cret"  # noqa: S105 - a test secret


@dataclass
class Heron:
    """What a server builds for the registry and its webhooks, on one database."""

    stores: Any
    registry: RegistryService
    webhooks: WebhookService
    dispatcher: WebhookDispatcher


@contextlib.contextmanager
def running(database_uri: str, shared: Any = None, **dispatcher_options: Any) -> Iterator[Heron]:
    """A server's registry on `database_uri`, or on the `shared` stores of another."""
    stores = shared or open_sql_stores(database_uri, default_artifact_root=PROXIED_ARTIFACT_ROOT)
    registry = RegistryService(
        stores.registered_models,
        stores.model_versions,
        stores.model_sources,
        AllowAll(),
        artifact_roots=(PROXIED_ARTIFACT_ROOT,),
    )
    options = {"poll_interval_s": 0.05, **dispatcher_options}
    dispatcher = WebhookDispatcher(stores.webhooks, HOSTS, **options)
    webhooks = WebhookService(stores.webhooks, dispatcher, AllowAll())
    dispatcher.start()
    try:
        yield Heron(stores, registry, webhooks, dispatcher)
    finally:
        dispatcher.close()
        if shared is None:
            stores.close()


def _wait_for_log(heron: Heron, webhook_id: str, count: int) -> list[Any]:
    deadline = time.monotonic() + 15
    while True:
        log = heron.webhooks.list_deliveries(webhook_id)
        if len(log) >= count or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


def test_a_queued_retry_is_delivered_by_the_next_server(database_uri: str) -> None:
    receiver = Receiver()  # not started: the receiver is down
    with running(database_uri, backoff_s=2.0) as first:
        hook = first.webhooks.create_webhook(
            "ci", receiver.url, [WebhookEvent("MODEL_VERSION", "CREATED")], secret=SECRET
        )
        first.registry.create_registered_model("fraud")
        first.registry.create_model_version("fraud", f"{PROXIED_ARTIFACT_ROOT}/0/model")
        [failed] = _wait_for_log(first, hook.webhook_id, 1)
        assert (failed.attempt, failed.success, failed.status_code) == (1, False, None)
        assert "Connect" in (failed.error or "")
    receiver.start()
    try:
        with running(database_uri) as second:
            receiver.wait_for(1)
            log = _wait_for_log(second, hook.webhook_id, 2)
            time.sleep(0.3)  # nothing more arrives
            assert len(receiver.requests) == 1
            headers, body = receiver.requests[0]
            assert signature_ok(SECRET, headers, body)
            payload = json.loads(body)
            assert (payload["entity"], payload["action"]) == ("model_version", "created")
            assert (payload["data"]["name"], payload["data"]["version"]) == ("fraud", "1")
            assert [(d.attempt, d.success) for d in log] == [(2, True), (1, False)]
            assert {d.delivery_id for d in log} == {headers["X-MLflow-Delivery-Id"]}
            assert second.stores.webhooks.next_due() is None  # the queue is empty
    finally:
        receiver.stop()


def test_two_dispatchers_make_each_delivery_once(database_uri: str) -> None:
    """Two servers on PostgreSQL; on SQLite (one server process) two dispatchers share it."""
    with receiving() as receiver, running(database_uri) as one:
        sqlite = database_uri.startswith("sqlite")
        with running(database_uri, one.stores if sqlite else None) as two:
            _make_twenty_events(one, two, receiver)


def _make_twenty_events(one: Heron, two: Heron, receiver: Receiver) -> None:
    hook = one.webhooks.create_webhook(
        "ci", receiver.url, [WebhookEvent("MODEL_VERSION_TAG", "SET")]
    )
    one.registry.create_registered_model("m")
    one.registry.create_model_version("m", f"{PROXIED_ARTIFACT_ROOT}/0/model")
    for n in range(20):
        (one if n % 2 else two).registry.set_model_version_tag("m", "1", f"k{n}", "v")
    receiver.wait_for(20)
    time.sleep(0.5)
    ids = [headers["X-MLflow-Delivery-Id"] for headers, _ in receiver.requests]
    assert len(ids) == 20
    assert len(set(ids)) == 20
    keys = sorted(json.loads(body)["data"]["key"] for _, body in receiver.requests)
    assert keys == sorted(f"k{n}" for n in range(20))
    assert len(_wait_for_log(one, hook.webhook_id, 20)) == 20


def test_a_change_that_fails_queues_nothing(database_uri: str) -> None:
    with receiving() as receiver, running(database_uri) as heron:
        heron.webhooks.create_webhook(
            "ci", receiver.url, [WebhookEvent("REGISTERED_MODEL", "CREATED")]
        )
        heron.registry.create_registered_model("once")
        with contextlib.suppress(Exception):
            heron.registry.create_registered_model("once")  # AlreadyExists: rolled back
        receiver.wait_for(1)
        time.sleep(0.3)
        assert len(receiver.requests) == 1


def test_disabling_a_webhook_drops_what_it_had_queued(database_uri: str) -> None:
    receiver = Receiver()  # down: the delivery waits for its retry
    with running(database_uri, backoff_s=30.0) as heron:
        hook = heron.webhooks.create_webhook(
            "ci", receiver.url, [WebhookEvent("REGISTERED_MODEL", "CREATED")]
        )
        heron.registry.create_registered_model("m")
        _wait_for_log(heron, hook.webhook_id, 1)
        assert heron.stores.webhooks.next_due() is not None
        heron.webhooks.update_webhook(hook.webhook_id, status="DISABLED")
        assert heron.stores.webhooks.next_due() is None


def test_an_expired_claim_cannot_undo_the_next_one(database_uri: str) -> None:
    """A worker whose lease ran out (it stalled) finishes late: the attempt is logged, but
    the delivery stays with the worker that claimed the next attempt."""
    receiver = Receiver()  # never started: nothing is sent here, the store is driven directly
    with running(database_uri, workers=0) as heron:
        hook = heron.webhooks.create_webhook(
            "ci", receiver.url, [WebhookEvent("REGISTERED_MODEL", "CREATED")]
        )
        heron.registry.create_registered_model("m")
        store = heron.stores.webhooks
        now = int(time.time() * 1000)
        stalled = store.claim_delivery(now, lease_ms=1)
        assert stalled is not None
        assert stalled.attempt == 1
        assert store.claim_delivery(now, lease_ms=60_000) is None  # leased: nobody else
        later = store.claim_delivery(now + 10, lease_ms=60_000)
        assert later is not None
        assert (later.delivery_id, later.attempt) == (stalled.delivery_id, 2)
        done = heron.dispatcher.attempt(
            stalled.webhook,
            WebhookEvent(stalled.entity, stalled.action),
            stalled.body,
            stalled.delivery_id,
            stalled.attempt,
        )[0]
        store.finish_delivery(done, retry_at=None)
        assert store.claim_delivery(now + 20, lease_ms=60_000) is None  # still attempt 2's
        assert [d.attempt for d in heron.webhooks.list_deliveries(hook.webhook_id)] == [1]
