"""Workspaces (`--enable-workspaces`) on a real server, on SQLite and PostgreSQL: each
workspace holds its own experiments and models, named as in no other; the header picks one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from heron.settings import Settings

API = "/api/2.0/mlflow"
WS = "/api/3.0/mlflow/workspaces"


def header(name: str) -> dict[str, str]:
    return {"X-MLFLOW-WORKSPACE": name}


def make_workspace(client: httpx.Client, name: str) -> None:
    resp = client.post(WS, json={"name": name, "description": f"team {name}"})
    assert resp.status_code == 201, resp.text
    assert resp.json() == {"workspace": {"name": name, "description": f"team {name}"}}


def create_experiment(client: httpx.Client, name: str, workspace: str | None) -> str:
    resp = client.post(
        f"{API}/experiments/create",
        json={"name": name},
        headers=header(workspace) if workspace else {},
    )
    assert resp.status_code == 200, resp.text
    return str(resp.json()["experiment_id"])


def names(client: httpx.Client, workspace: str | None) -> list[str]:
    resp = client.post(
        f"{API}/experiments/search",
        json={"max_results": 100},
        headers=header(workspace) if workspace else {},
    )
    assert resp.status_code == 200, resp.text
    return sorted(e["name"] for e in resp.json().get("experiments", []))


def test_server_info_says_workspaces_are_enabled(server: httpx.Client) -> None:
    assert server.get("/api/3.0/mlflow/server-info").json()["workspaces_enabled"] is True


def test_two_workspaces_hold_experiments_of_the_same_name_apart(server: httpx.Client) -> None:
    make_workspace(server, "team-a")
    make_workspace(server, "team-b")
    a = create_experiment(server, "churn", "team-a")
    b = create_experiment(server, "churn", "team-b")
    assert a != b
    create_experiment(server, "only-a", "team-a")

    assert names(server, "team-a") == ["churn", "only-a"]
    assert names(server, "team-b") == ["churn"]
    assert names(server, None) == ["Default"]  # no header: the default workspace

    by_name = server.get(
        f"{API}/experiments/get-by-name",
        params={"experiment_name": "churn"},
        headers=header("team-b"),
    )
    assert by_name.json()["experiment"]["experiment_id"] == b
    assert by_name.json()["experiment"]["workspace"] == "team-b"
    again = server.post(
        f"{API}/experiments/create", json={"name": "churn"}, headers=header("team-a")
    )
    assert again.json()["error_code"] == "RESOURCE_ALREADY_EXISTS"


def test_an_object_of_another_workspace_does_not_exist_here(server: httpx.Client) -> None:
    make_workspace(server, "team-a")
    experiment = create_experiment(server, "private", "team-a")
    run = server.post(
        f"{API}/runs/create", json={"experiment_id": experiment}, headers=header("team-a")
    ).json()["run"]["info"]["run_id"]

    elsewhere = server.get(f"{API}/experiments/get", params={"experiment_id": experiment})
    assert elsewhere.status_code == 404
    assert elsewhere.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    run_elsewhere = server.get(f"{API}/runs/get", params={"run_id": run})
    assert run_elsewhere.status_code == 404
    logged = server.post(
        f"{API}/runs/log-metric",
        json={"run_id": run, "key": "m", "value": 1, "timestamp": 1},
    )
    assert logged.status_code == 404
    searched = server.post(f"{API}/runs/search", json={"experiment_ids": [experiment]})
    assert searched.status_code == 404

    here = server.get(f"{API}/runs/get", params={"run_id": run}, headers=header("team-a"))
    assert here.status_code == 200


def test_registered_models_are_named_within_their_workspace(server: httpx.Client) -> None:
    make_workspace(server, "team-a")
    for workspace in ("team-a", None):
        resp = server.post(
            f"{API}/registered-models/create",
            json={"name": "fraud", "description": workspace or "default"},
            headers=header(workspace) if workspace else {},
        )
        assert resp.status_code == 200, resp.text
    in_a = server.get(
        f"{API}/registered-models/get", params={"name": "fraud"}, headers=header("team-a")
    )
    assert in_a.json()["registered_model"]["description"] == "team-a"
    in_default = server.get(f"{API}/registered-models/get", params={"name": "fraud"})
    assert in_default.json()["registered_model"]["description"] == "default"
    only_a = server.post(
        f"{API}/registered-models/create", json={"name": "only-a"}, headers=header("team-a")
    )
    assert only_a.status_code == 200
    listed = server.get(f"{API}/registered-models/search")
    assert [m["name"] for m in listed.json()["registered_models"]] == ["fraud"]
    missing = server.get(f"{API}/registered-models/get", params={"name": "only-a"})
    assert missing.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_an_unknown_workspace_is_refused_with_what_to_do(server: httpx.Client) -> None:
    resp = server.post(f"{API}/experiments/search", json={}, headers=header("nowhere"))
    assert resp.status_code == 404
    body = resp.json()
    assert body["error_code"] == "RESOURCE_DOES_NOT_EXIST"
    assert "'nowhere' does not exist" in body["message"]


def test_workspaces_are_made_listed_changed_and_deleted(server: httpx.Client) -> None:
    make_workspace(server, "team-a")
    assert [w["name"] for w in server.get(WS).json()["workspaces"]] == ["default", "team-a"]
    changed = server.patch(f"{WS}/team-a", json={"description": "renamed team"})
    assert changed.json()["workspace"]["description"] == "renamed team"
    assert server.get(f"{WS}/team-a").json()["workspace"]["description"] == "renamed team"

    create_experiment(server, "kept", "team-a")
    refused = server.delete(f"{WS}/team-a")
    assert refused.status_code == 409
    assert "still holds experiments" in refused.json()["message"]
    moved = server.delete(f"{WS}/team-a", params={"mode": "SET_DEFAULT"})
    assert moved.status_code == 204, moved.text
    assert names(server, None) == ["Default", "kept"]
    assert server.get(f"{WS}/team-a").json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"name": "default"}, "reserved"),
        ({"name": "Team_A"}, "must match the pattern"),
        ({"name": "a"}, "between 2 and 63"),
        ({"name": "api"}, "reserved"),
        ({}, "name"),
    ],
)
def test_bad_workspace_names_are_refused(
    server: httpx.Client, body: dict[str, str], says: str
) -> None:
    resp = server.post(WS, json=body)
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert says in resp.json()["message"]


def test_the_default_workspace_cannot_be_deleted(server: httpx.Client) -> None:
    resp = server.delete(f"{WS}/default")
    assert resp.status_code == 400
    assert "reserved" in resp.json()["message"]


def test_without_the_flag_nothing_is_scoped_and_the_routes_say_so(
    tmp_path: Path, serve_settings: Any
) -> None:
    settings = Settings(
        backend_store_uri=f"sqlite:///{tmp_path}/heron.db",
        artifacts_destination=str(tmp_path / "artifacts"),
    )
    with serve_settings(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.get("/api/3.0/mlflow/server-info").json()["workspaces_enabled"] is False
        off = client.get(WS)
        assert off.status_code == 404
        assert "--enable-workspaces" in off.text
        create_experiment(client, "anywhere", "ignored-header")
        assert names(client, None) == ["Default", "anywhere"]
        got = client.post(f"{API}/experiments/search", json={}).json()["experiments"][0]
        assert "workspace" not in got
