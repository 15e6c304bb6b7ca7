"""A workspace's trace archival settings (MLflow's `trace_archival_config`) on a real server:
Heron archives no traces, so a setting is refused with what to do instead, never stored and
ignored; an empty one (MLflow's "inherit") asks nothing and is accepted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

WS = "/api/3.0/mlflow/workspaces"


@pytest.mark.parametrize(
    "config",
    [
        {"retention": "30d"},
        {"location": "s3://bucket/archive"},
        {"location": " x ", "retention": ""},
    ],
    ids=["retention", "location", "location-with-blank-retention"],
)
def test_trace_archival_settings_are_refused(server: httpx.Client, config: Any) -> None:
    made = server.post(WS, json={"name": "team-a", "trace_archival_config": config})
    assert made.status_code == 400, made.text
    body = made.json()
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "Heron does not archive traces" in body["message"]
    assert "heron traces prune" in body["message"]
    assert server.get(f"{WS}/team-a").status_code == 404  # nothing was made

    assert server.post(WS, json={"name": "team-a"}).status_code == 201
    changed = server.patch(f"{WS}/team-a", json={"description": "d", "traceArchivalConfig": config})
    assert changed.status_code == 400, changed.text
    assert changed.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert server.get(f"{WS}/team-a").json() == {"workspace": {"name": "team-a"}}


def test_empty_trace_archival_settings_ask_nothing(server: httpx.Client) -> None:
    made = server.post(WS, json={"name": "team-a", "trace_archival_config": {}})
    assert made.status_code == 201, made.text
    changed = server.patch(
        f"{WS}/team-a",
        json={"description": "d", "trace_archival_config": {"location": "", "retention": " "}},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json() == {"workspace": {"name": "team-a", "description": "d"}}
    info = server.get("/api/3.0/mlflow/server-info").json()
    assert info["trace_archival_enabled"] is False


@pytest.mark.parametrize(
    "config", ["30d", {"retention": 30}, {"location": ["s3://b"]}], ids=["text", "int", "list"]
)
def test_malformed_trace_archival_settings_are_refused(server: httpx.Client, config: Any) -> None:
    made = server.post(WS, json={"name": "team-a", "trace_archival_config": config})
    assert made.status_code == 400, made.text
    assert made.json()["error_code"] == "INVALID_PARAMETER_VALUE"
