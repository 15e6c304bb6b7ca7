"""Managed serving endpoints end to end: a real `heron server --serve-endpoints` with its
`heron serving worker` replicas, on SQLite and PostgreSQL. An alias move under steady load
fails no request; a replica killed with kill -9 fails none either and comes back; every
answered request is in the inference table; a traffic split and a shadow give their verdict;
a rollback is one call."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.serving.conftest import (
    IRIS_ROW,
    EndpointServer,
    Load,
    wait_until,
)

pytestmark = pytest.mark.slow

API = "/api/2.0/serving-endpoints"


@pytest.fixture
def server(endpoint_server: EndpointServer) -> EndpointServer:
    return endpoint_server


@pytest.fixture
def http(server: EndpointServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


@pytest.fixture
def endpoint(http: httpx.Client) -> Iterator[str]:
    """A fresh endpoint's name; deleted (and its workers gone) at the end."""
    name = f"ep-{uuid.uuid4().hex[:8]}"
    yield name
    http.delete(f"{API}/{name}")


def _create(http: httpx.Client, name: str, config: dict[str, Any]) -> None:
    made = http.post(API, json={"name": name, "config": config})
    assert made.status_code == 200, made.text


def _ready(http: httpx.Client, name: str, replicas: int = 2, version: str | None = None) -> Any:
    """Waits until `replicas` replicas serve the newest configuration (and `version`)."""

    def check() -> Any:
        body = http.get(f"{API}/{name}").json()
        live = [r for r in body.get("replicas", []) if r["state"] == "READY"]
        done = body["state"] == {"ready": "READY", "config_update": "NOT_UPDATING"}
        versions = {v for r in live for v in r["versions"].values()}
        return body if done and len(live) >= replicas and version in (None, *versions) else None

    return wait_until(check, 240, f"endpoint {name} to be ready")


def _invoke(http: httpx.Client, name: str) -> httpx.Response:
    return http.post(f"/serving-endpoints/{name}/invocations", json=IRIS_ROW)


def _records(http: httpx.Client, name: str) -> set[str]:
    found: set[str] = set()
    token = None
    while True:
        params: dict[str, Any] = {"endpoint_name": name, "max_results": 1000}
        if token:
            params["page_token"] = token
        page = http.get("/api/2.0/heron/inference-records/search", params=params).json()
        found |= {r["request_id"] for r in page["records"]}
        token = page.get("next_page_token")
        if not token:
            return found


def _alias(http: httpx.Client, version: str) -> None:
    moved = http.post(
        "/api/2.0/mlflow/registered-models/alias",
        json={"name": "iris", "alias": "champion", "version": version},
    )
    assert moved.status_code == 200, moved.text


def test_alias_move_under_load_fails_no_request_and_every_answer_is_captured(
    http: httpx.Client, server: EndpointServer, endpoint: str
) -> None:
    _alias(http, "1")
    config = {
        "served_entities": [{"name": "champ", "entity_name": "iris", "entity_alias": "champion"}]
    }
    _create(http, endpoint, config)
    gateway = http.put(
        f"{API}/{endpoint}/ai-gateway", json={"inference_table_config": {"enabled": True}}
    )
    assert gateway.status_code == 200, gateway.text
    _ready(http, endpoint, version="1")
    first = _invoke(http, endpoint)
    assert (first.status_code, first.headers["x-heron-served-version"]) == (200, "1")

    with Load(f"{server.url}/serving-endpoints/{endpoint}/invocations") as load:
        wait_until(lambda: len(load.answers) > 20, 60, "requests before the move")
        _alias(http, "2")
        status = _ready(http, endpoint, version="2")  # every replica rolled to version 2
        seen = len(load.answers)
        wait_until(lambda: len(load.answers) > seen + 20, 60, "requests after the move")
    assert load.failures() == []
    versions = [a[1] for a in load.answers]
    assert versions[0] == "1"
    # Once every replica moved, version 2 answers (but for the 2 requests then in flight).
    assert set(versions[seen + 2 :]) == {"2"}
    assert status["config"]["served_entities"][0]["entity_version"] == "2"

    # Every answered request is in the inference table within seconds.
    answered = {a[2] for a in load.answers} | {first.headers["x-request-id"]}
    wait_until(lambda: answered <= _records(http, endpoint), 30, "the captured records")
    some = http.get(
        "/api/2.0/heron/inference-records/get", params={"request_id": first.headers["x-request-id"]}
    ).json()["record"]
    assert some["status_code"] == 200
    assert (some["served_entity_id"], some["served_version"]) == ("champ", "1")
    assert some["response"] == '{"predictions":[0]}'


def test_a_replica_killed_under_load_fails_no_request_and_comes_back(
    http: httpx.Client, server: EndpointServer, endpoint: str
) -> None:
    _create(http, endpoint, {"served_entities": [{"entity_name": "iris", "entity_version": "1"}]})
    before = _ready(http, endpoint)["replicas"]
    victim = before[0]
    with Load(f"{server.url}/serving-endpoints/{endpoint}/invocations") as load:
        wait_until(lambda: len(load.answers) > 20, 60, "requests before the kill")
        os.kill(victim["pid"], signal.SIGKILL)
        seen = len(load.answers)
        wait_until(lambda: len(load.answers) > seen + 50, 60, "requests after the kill")

        def restarted() -> bool:
            body = http.get(f"{API}/{endpoint}").json()
            return any(
                r["replica_id"] == victim["replica_id"] and r["pid"] != victim["pid"]
                and r["state"] == "READY"
                for r in body["replicas"]
            )  # fmt: skip

        wait_until(restarted, 240, "the supervisor to restart the killed replica")
    assert load.failures() == []


def test_traffic_split_shadow_verdict_and_rollback(
    http: httpx.Client, server: EndpointServer, endpoint: str
) -> None:
    _create(
        http,
        endpoint,
        {"served_entities": [{"name": "a", "entity_name": "iris", "entity_version": "1"}]},
    )
    split = {
        "served_entities": [
            {"name": "a", "entity_name": "iris", "entity_version": "1"},
            {"name": "b", "entity_name": "iris", "entity_version": "2"},
        ],
        "traffic_config": {
            "routes": [
                {"served_entity_name": "a", "traffic_percentage": 50},
                {"served_entity_name": "b", "traffic_percentage": 50},
            ],
            "shadow_routes": [{"served_entity_name": "b", "traffic_percentage": 100}],
        },
    }
    updated = http.put(f"{API}/{endpoint}/config", json=split)
    assert updated.status_code == 200, updated.text
    _ready(http, endpoint)
    versions = [_invoke(http, endpoint).headers["x-heron-served-version"] for _ in range(40)]
    assert set(versions) == {"1", "2"}

    def verdict() -> Any:
        minutes = http.get(
            "/api/2.0/heron/serving-endpoints/metrics", params={"endpoint_name": endpoint}
        ).json()["minutes"]
        shadow = [m for m in minutes if m["shadow_requests"]]
        return shadow if sum(m["shadow_requests"] for m in shadow) >= 30 else None

    shadow = wait_until(verdict, 30, "the shadow's verdict")
    assert {m["served_entity"] for m in shadow} == {"b"}
    # Versions 1 and 2 (C=0.5 and C=1.5) agree on this flower.
    assert sum(m["shadow_agreed"] for m in shadow) == sum(m["shadow_requests"] for m in shadow)

    rolled = http.post(f"{API}/{endpoint}/rollback")
    assert rolled.status_code == 200, rolled.text
    _ready(http, endpoint)
    versions = [_invoke(http, endpoint).headers["x-heron-served-version"] for _ in range(10)]
    assert set(versions) == {"1"}


def test_metrics_count_each_endpoint_and_version(
    http: httpx.Client, server: EndpointServer, endpoint: str
) -> None:
    _create(
        http,
        endpoint,
        {"served_entities": [{"name": "v1", "entity_name": "iris", "entity_version": "1"}]},
    )
    _ready(http, endpoint)
    for _ in range(3):
        assert _invoke(http, endpoint).status_code == 200
    text = http.get("/metrics").text
    line = (
        f'heron_endpoint_requests_total{{endpoint="{endpoint}",served_entity="v1",'
        'served_version="1",status="200"} 3.0'
    )
    assert line in text
    assert f'heron_endpoint_request_duration_seconds_count{{endpoint="{endpoint}"' in text
