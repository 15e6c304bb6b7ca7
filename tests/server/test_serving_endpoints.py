"""The serving-endpoints REST API in Databricks' shape, over HTTP (no replicas running)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

API = "/api/2.0/serving-endpoints"


@pytest.fixture
def model(http: httpx.Client) -> str:
    name = f"m-{uuid.uuid4().hex[:8]}"
    assert http.post("/api/2.0/mlflow/registered-models/create", json={"name": name}).is_success
    for _ in range(2):
        made = http.post(
            "/api/2.0/mlflow/model-versions/create",
            json={"name": name, "source": "mlflow-artifacts:/0/files/m"},
        )
        assert made.is_success, made.text
    return name


def _create(http: httpx.Client, name: str, model: str, **extra: Any) -> httpx.Response:
    body = {
        "name": name,
        "config": {"served_entities": [{"entity_name": model, "entity_version": "1"}]},
        **extra,
    }
    return http.post(API, json=body)


def test_endpoint_lifecycle_in_databricks_shape(http: httpx.Client, model: str) -> None:
    name = f"ep-{uuid.uuid4().hex[:8]}"
    created = _create(http, name, model, tags=[{"key": "team", "value": "risk"}])
    assert created.status_code == 200, created.text
    body = created.json()
    assert body["name"] == name
    assert body["state"] == {"ready": "NOT_READY", "config_update": "IN_PROGRESS"}
    pending = body["pending_config"]
    assert pending["config_version"] == 1
    assert pending["served_entities"][0]["name"] == f"{model}-1"
    assert pending["served_entities"][0]["entity_version"] == "1"
    assert pending["served_models"][0]["model_name"] == model
    assert pending["traffic_config"]["routes"] == [
        {"served_model_name": f"{model}-1", "served_entity_name": f"{model}-1",
         "traffic_percentage": 100},
    ]  # fmt: skip
    assert body["tags"] == [{"key": "team", "value": "risk"}]

    listed = http.get(API + "/")  # MLflow's client lists with a trailing slash
    assert name in [e["name"] for e in listed.json()["endpoints"]]
    assert http.get(f"{API}/{name}").json()["id"] == body["id"]

    config = {
        "served_models": [
            {"name": "a", "model_name": model, "model_version": "1"},
            {"name": "b", "model_name": model, "model_version": "2"},
        ],
        "traffic_config": {
            "routes": [
                {"served_model_name": "a", "traffic_percentage": 80},
                {"served_model_name": "b", "traffic_percentage": 20},
            ]
        },
    }
    updated = http.put(f"{API}/{name}/config", json=config)
    assert updated.status_code == 200, updated.text
    assert updated.json()["pending_config"]["config_version"] == 2

    tags = http.patch(
        f"{API}/{name}/tags",
        json={"add_tags": [{"key": "tier", "value": "1"}], "delete_tags": ["team"]},
    )
    assert tags.json() == {"tags": [{"key": "tier", "value": "1"}]}

    gateway = http.put(
        f"{API}/{name}/ai-gateway",
        json={"inference_table_config": {"enabled": True, "catalog_name": "c", "schema_name": "s"}},
    )
    assert gateway.json()["inference_table_config"]["enabled"] is True
    assert http.get(f"{API}/{name}").json()["ai_gateway"] == gateway.json()

    rolled = http.post(f"{API}/{name}/rollback")
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["pending_config"]["config_version"] == 3
    assert len(rolled.json()["pending_config"]["served_entities"]) == 1

    assert http.delete(f"{API}/{name}").json() == {}
    missing = http.get(f"{API}/{name}")
    assert missing.status_code == 404
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": "x"}, "'config'"),
        ({"name": "x", "config": {"served_entities": "no"}}, "must be a list"),
        ({"name": "x", "config": {"served_entities": [{"entity_name": "m", "oops": 1}]}}, "oops"),
        (
            {"name": "x", "config": {"served_entities": [{"external_model": {"name": "gpt"}}]}},
            "external models",
        ),
        (
            {
                "name": "x",
                "config": {
                    "served_entities": [{"entity_name": "m"}],
                    "traffic_config": {"routes": [{"traffic_percentage": "5"}]},
                },
            },
            "served_entity_name",
        ),
        ({"name": "x", "config": {}, "rate_limits": [{"calls": 1}]}, "rate_limits"),
    ],
    ids=[
        "no-config",
        "entities-not-list",
        "unknown-field",
        "external",
        "route-unnamed",
        "rate-limits",
    ],
)
def test_bad_requests_are_400_naming_the_field(
    http: httpx.Client, body: dict[str, Any], message: str
) -> None:
    resp = http.post(API, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in resp.json()["message"]


def test_invoking_an_unknown_endpoint_is_404(http: httpx.Client) -> None:
    resp = http.post("/serving-endpoints/nope/invocations", json={"inputs": [1]})
    assert resp.status_code == 404
    assert resp.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
