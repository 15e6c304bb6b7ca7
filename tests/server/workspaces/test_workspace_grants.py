"""Grants on workspaces, with --auth and --enable-workspaces on a real server (SQLite and
PostgreSQL): a privilege held on a workspace holds on everything in it, and a user with no
grant on a workspace sees and changes nothing there."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.security.conftest import AuthServer, create_user, serve_with_auth

API = "/api/2.0/mlflow"
WS = "/api/3.0/mlflow/workspaces"
USERS = {"alice": "alice-password", "bob": "bob-password", "carol": "carol-password"}
IN_A = {"X-MLFLOW-WORKSPACE": "team-a"}


@pytest.fixture
def server(tmp_path: Path, serve_settings: Any, database_uri: str) -> Iterator[AuthServer]:
    with serve_with_auth(tmp_path, serve_settings, database_uri, enable_workspaces=True) as s:
        for name, password in USERS.items():
            create_user(s, name, password)
        with s.admin() as admin:
            assert admin.post(WS, json={"name": "team-a"}).status_code == 201
            for user, privilege in (("alice", "EDIT"), ("carol", "READ")):
                granted = admin.post("/api/2.0/heron/grants/grant", json={
                    "principal": user, "privilege": privilege,
                    "securable_type": "workspace", "securable_id": "team-a",
                })  # fmt: skip
                assert granted.status_code == 200, granted.text
        yield s


def as_user(server: AuthServer, name: str) -> httpx.Client:
    return server.client((name, USERS[name]))


def test_a_grant_on_a_workspace_reaches_what_is_in_it(server: AuthServer) -> None:
    with as_user(server, "alice") as alice:
        made = alice.post(f"{API}/experiments/create", json={"name": "churn"}, headers=IN_A)
        assert made.status_code == 200, made.text
        experiment = made.json()["experiment_id"]
        run = alice.post(f"{API}/runs/create", json={"experiment_id": experiment},
                         headers=IN_A).json()["run"]["info"]["run_id"]  # fmt: skip
    with as_user(server, "carol") as carol:  # READ on the workspace
        found = carol.post(f"{API}/experiments/search", json={}, headers=IN_A)
        assert [e["name"] for e in found.json()["experiments"]] == ["churn"]
        assert carol.get(f"{API}/runs/get", params={"run_id": run}, headers=IN_A).is_success
        logged = carol.post(
            f"{API}/runs/log-metric",
            json={"run_id": run, "key": "m", "value": 1, "timestamp": 1},
            headers=IN_A,
        )
        assert logged.status_code == 403
        refused = carol.post(f"{API}/experiments/create", json={"name": "x"}, headers=IN_A)
        assert refused.status_code == 403
        assert "EDIT on the workspace" in refused.json()["message"]


def test_without_a_grant_a_workspace_shows_nothing(server: AuthServer) -> None:
    with as_user(server, "alice") as alice:
        experiment = alice.post(
            f"{API}/experiments/create", json={"name": "churn"}, headers=IN_A
        ).json()["experiment_id"]
    with as_user(server, "bob") as bob:
        listed = bob.post(f"{API}/experiments/search", json={}, headers=IN_A)
        assert listed.status_code == 200
        assert listed.json().get("experiments", []) == []
        got = bob.get(f"{API}/experiments/get", params={"experiment_id": experiment},
                      headers=IN_A)  # fmt: skip
        assert got.status_code == 403
        assert "no access to workspace 'team-a'" in got.json()["message"]
        made = bob.post(f"{API}/experiments/create", json={"name": "mine"}, headers=IN_A)
        assert made.status_code == 403
        # Named from the default workspace, it does not exist there.
        elsewhere = bob.get(f"{API}/experiments/get", params={"experiment_id": experiment})
        assert elsewhere.status_code == 404
        assert [w["name"] for w in bob.get(WS).json()["workspaces"]] == ["default"]
        assert bob.get(f"{WS}/team-a").status_code == 403
        assert bob.delete(f"{WS}/team-a").status_code == 403
    with as_user(server, "alice") as alice:
        assert [w["name"] for w in alice.get(WS).json()["workspaces"]] == ["default", "team-a"]
        # EDIT is not MANAGE: the workspace itself stays the admins'.
        assert alice.patch(f"{WS}/team-a", json={"description": "x"}).status_code == 403
        assert alice.post(WS, json={"name": "team-z"}).status_code == 403


def test_a_grant_on_a_model_does_not_reach_its_namesake_in_a_workspace(
    server: AuthServer,
) -> None:
    with server.admin() as admin:
        for headers in ({}, IN_A):
            made = admin.post(f"{API}/registered-models/create", json={"name": "fraud"},
                              headers=headers)  # fmt: skip
            assert made.status_code == 200, made.text
        granted = admin.post("/api/2.0/heron/grants/grant", json={
            "principal": "carol", "privilege": "MANAGE",
            "securable_type": "registered_model", "securable_id": "fraud",
        })  # fmt: skip
        assert granted.status_code == 200, granted.text
    with as_user(server, "carol") as carol:  # READ on team-a, MANAGE on default's fraud
        update = {"name": "fraud", "description": "changed"}
        assert carol.patch(f"{API}/registered-models/update", json=update).is_success
        refused = carol.patch(f"{API}/registered-models/update", json=update, headers=IN_A)
        assert refused.status_code == 403
        assert (
            "EDIT on registered model 'fraud' of workspace 'team-a' is needed"
            in (refused.json()["message"])
        )
        read = carol.get(f"{API}/registered-models/get", params={"name": "fraud"}, headers=IN_A)
        assert read.json()["registered_model"].get("description") is None
    with as_user(server, "bob") as bob:  # no grant on team-a
        listed = bob.get(f"{API}/registered-models/search", headers=IN_A)
        assert listed.json().get("registered_models", []) == []


def test_a_caller_without_credentials_cannot_probe_workspace_names(server: AuthServer) -> None:
    with httpx.Client(base_url=server.url) as anonymous:
        answers = [
            anonymous.get("/api/3.0/mlflow/server-info", headers={"X-MLFLOW-WORKSPACE": name})
            for name in ("team-a", "no-such-team")
        ]
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[0].json() == answers[1].json()
        refused = [
            anonymous.get(WS, headers={"X-MLFLOW-WORKSPACE": name}).status_code
            for name in ("team-a", "no-such-team")
        ]
        assert refused == [401, 401]
