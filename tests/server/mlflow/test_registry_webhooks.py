"""Webhooks on registry events: MLflow's /webhooks API, signed deliveries to a local HTTP
receiver, retries, the delivery log, and the host allow-list."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.webhook_receiver import Receiver, receiving, signature_ok

from heron.settings import Settings

API = "/api/2.0/mlflow"
HERON = "/api/2.0/heron"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with receiving() as state:
        yield state


@pytest.fixture
def http(tmp_path: Path, serve_settings: Any) -> Iterator[httpx.Client]:
    settings = Settings.for_home(tmp_path, webhook_allowed_hosts=("127.0.0.1",))
    with serve_settings(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


def _ok(resp: httpx.Response) -> Any:
    assert resp.status_code == 200, resp.text
    return resp.json()


def _hook(http: httpx.Client, url: str, events: list[tuple[str, str]], **extra: Any) -> str:
    body = {
        "name": "ci",
        "url": url,
        "events": [{"entity": e, "action": a} for e, a in events],
        **extra,
    }
    return str(_ok(http.post(f"{API}/webhooks", json=body))["webhook"]["webhook_id"])


def _deliveries(http: httpx.Client, webhook_id: str) -> list[dict[str, Any]]:
    found = _ok(http.get(f"{HERON}/webhooks/deliveries", params={"webhook_id": webhook_id}))
    return list(found["deliveries"])


def test_signed_delivery_on_model_version_created(http: httpx.Client, receiver: Receiver) -> None:
    webhook_id = _hook(http, receiver.url, [("MODEL_VERSION", "CREATED")], secret="s3cret")  # noqa: S106 - a test secret
    _ok(http.post(f"{API}/registered-models/create", json={"name": "fraud"}))
    _ok(
        http.post(
            f"{API}/model-versions/create",
            json={"name": "fraud", "source": "mlflow-artifacts:/0/model"},
        )
    )
    receiver.wait_for(1)
    headers, body = receiver.requests[0]
    payload = json.loads(body)
    assert (payload["entity"], payload["action"]) == ("model_version", "created")
    assert (payload["data"]["name"], payload["data"]["version"]) == ("fraud", "1")
    assert signature_ok("s3cret", headers, body)
    time.sleep(0.2)
    log = _deliveries(http, webhook_id)
    assert [(d["success"], d["status_code"]) for d in log] == [(True, 200)]


def test_alias_and_tag_events_and_only_subscribed_ones(
    http: httpx.Client, receiver: Receiver
) -> None:
    _hook(http, receiver.url, [("MODEL_VERSION_ALIAS", "CREATED"), ("MODEL_VERSION_TAG", "SET")])
    _ok(http.post(f"{API}/registered-models/create", json={"name": "m"}))
    version = {"name": "m", "source": "mlflow-artifacts:/0/x"}
    _ok(http.post(f"{API}/model-versions/create", json=version))
    _ok(
        http.post(
            f"{API}/registered-models/alias", json={"name": "m", "alias": "a", "version": "1"}
        )
    )
    tag = {"name": "m", "version": "1", "key": "k", "value": "v"}
    _ok(http.post(f"{API}/model-versions/set-tag", json=tag))
    receiver.wait_for(2)
    time.sleep(0.3)
    kinds = sorted((json.loads(b)["entity"], json.loads(b)["action"]) for _, b in receiver.requests)
    assert kinds == [("model_version_alias", "created"), ("model_version_tag", "set")]


def test_failed_deliveries_are_retried_and_logged(http: httpx.Client, receiver: Receiver) -> None:
    receiver.statuses = [500, 503]
    webhook_id = _hook(http, receiver.url, [("REGISTERED_MODEL", "CREATED")])
    _ok(http.post(f"{API}/registered-models/create", json={"name": "retry"}))
    receiver.wait_for(3)
    time.sleep(0.2)
    log = _deliveries(http, webhook_id)
    assert [(d["attempt"], d["status_code"], d["success"]) for d in log] == [
        (3, 200, True),
        (2, 503, False),
        (1, 500, False),
    ]
    assert len({d["delivery_id"] for d in log}) == 1


def test_redirects_are_not_followed(http: httpx.Client, receiver: Receiver) -> None:
    receiver.statuses = [302]
    webhook_id = _hook(http, receiver.url, [("REGISTERED_MODEL", "CREATED")])
    result = _ok(http.post(f"{API}/webhooks/{webhook_id}/test", json={}))["result"]
    assert result["success"] is False
    assert result["response_status"] == 302
    assert len(receiver.requests) == 1


def test_test_delivery_and_crud(http: httpx.Client, receiver: Receiver) -> None:
    webhook_id = _hook(http, receiver.url, [("MODEL_VERSION_TAG", "SET")], description="d")
    result = _ok(
        http.post(
            f"{API}/webhooks/{webhook_id}/test",
            json={"event": {"entity": "MODEL_VERSION_TAG", "action": "SET"}},
        )
    )["result"]
    assert result == {"success": True, "response_status": 200, "response_body": "received"}
    assert json.loads(receiver.requests[0][1])["data"]["key"] == "example_key"
    got = _ok(http.get(f"{API}/webhooks/{webhook_id}"))["webhook"]
    assert (got["name"], got["status"], got["description"]) == ("ci", "ACTIVE", "d")
    assert "secret" not in got
    changed = _ok(http.patch(f"{API}/webhooks/{webhook_id}", json={"status": "DISABLED"}))
    assert changed["webhook"]["status"] == "DISABLED"
    listed = _ok(http.get(f"{API}/webhooks"))["webhooks"]
    assert [w["webhook_id"] for w in listed] == [webhook_id]
    _ok(http.post(f"{API}/registered-models/create", json={"name": "quiet"}))
    _ok(http.request("DELETE", f"{API}/webhooks/{webhook_id}"))
    resp = http.get(f"{API}/webhooks/{webhook_id}")
    assert (resp.status_code, resp.json()["error_code"]) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert len(receiver.requests) == 1  # the disabled webhook sent nothing


@pytest.mark.parametrize(
    ("url", "events"),
    [
        ("http://10.0.0.1/hook", [("MODEL_VERSION", "CREATED")]),
        ("http://169.254.169.254/latest", [("MODEL_VERSION", "CREATED")]),
        ("http://localhost:1/hook", [("MODEL_VERSION", "CREATED")]),
        ("file:///etc/passwd", [("MODEL_VERSION", "CREATED")]),
        ("ftp://127.0.0.1/x", [("MODEL_VERSION", "CREATED")]),
        ("http://user:pw@127.0.0.1/x", [("MODEL_VERSION", "CREATED")]),
        ("http://127.0.0.1/x", []),
        ("http://127.0.0.1/x", [("MODEL_VERSION", "EXPLODED")]),
        ("http://127.0.0.1/x", [("RUN", "CREATED")]),
    ],
    ids=[
        "private",
        "metadata",
        "localhost-not-listed",
        "file",
        "ftp",
        "credentials",
        "no-events",
        "bad-action",
        "bad-entity",
    ],
)
def test_refused_webhooks(http: httpx.Client, url: str, events: list[tuple[str, str]]) -> None:
    body = {"name": "x", "url": url, "events": [{"entity": e, "action": a} for e, a in events]}
    resp = http.post(f"{API}/webhooks", json=body)
    assert (resp.status_code, resp.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")


def test_no_host_is_allowed_by_default(tmp_path: Path, serve_settings: Any) -> None:
    with serve_settings(Settings.for_home(tmp_path)) as url:
        body = {
            "name": "x",
            "url": "http://127.0.0.1/x",
            "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}],
        }
        resp = httpx.post(f"{url}{API}/webhooks", json=body)
    assert resp.status_code == 400
    assert "not allowed" in resp.json()["message"]
