"""Grants on a registered model or prompt of one workspace, with --auth and --enable-workspaces
on a real server (SQLite and PostgreSQL): a grant names the model of the request's workspace,
and never reaches a model of the same name in another workspace."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.security.conftest import AuthServer, create_user, serve_with_auth

API = "/api/2.0/mlflow"
WS = "/api/3.0/mlflow/workspaces"
GRANT = "/api/2.0/heron/grants/grant"
USERS = {"alice": "alice-password", "bob": "bob-password"}
TEAMS = ("team-a", "team-b")


def within(workspace: str) -> dict[str, str]:
    return {"X-MLFLOW-WORKSPACE": workspace}


@pytest.fixture
def server(tmp_path: Path, serve_settings: Any, database_uri: str) -> Iterator[AuthServer]:
    """Two workspaces each holding a model `m` (and `default` one too); alice may make models
    in team-a (EDIT on it); alice and bob may enter both (BROWSE), nothing more."""
    with serve_with_auth(tmp_path, serve_settings, database_uri, enable_workspaces=True) as s:
        for name, password in USERS.items():
            create_user(s, name, password)
        with s.admin() as admin:
            for team in TEAMS:
                assert admin.post(WS, json={"name": team}).status_code == 201
                for user in USERS:
                    grant(admin, user, "BROWSE", "workspace", team)
            grant(admin, "alice", "EDIT", "workspace", "team-a")
            for workspace in ("default", "team-b"):
                made = admin.post(f"{API}/registered-models/create", json={"name": "m"},
                                  headers=within(workspace))  # fmt: skip
                assert made.status_code == 200, made.text
        yield s


def grant(client: httpx.Client, user: str, privilege: str, kind: str, name: str,
          workspace: str = "default") -> None:  # fmt: skip
    granted = client.post(GRANT, json={
        "principal": user, "privilege": privilege, "securable_type": kind, "securable_id": name,
    }, headers=within(workspace))  # fmt: skip
    assert granted.status_code == 200, granted.text


def as_user(server: AuthServer, name: str) -> httpx.Client:
    return server.client((name, USERS[name]))


def read(client: httpx.Client, name: str, workspace: str) -> int:
    got = client.get(f"{API}/registered-models/get", params={"name": name},
                     headers=within(workspace))  # fmt: skip
    return got.status_code


def searched(client: httpx.Client, workspace: str) -> list[str]:
    found = client.get(f"{API}/registered-models/search", headers=within(workspace))
    assert found.status_code == 200, found.text
    return [m["name"] for m in found.json().get("registered_models", [])]


def test_a_grant_reaches_the_model_of_its_workspace_only(server: AuthServer) -> None:
    with server.admin() as admin:
        made = admin.post(f"{API}/registered-models/create", json={"name": "m"},
                          headers=within("team-a"))  # fmt: skip
        assert made.status_code == 200, made.text
        grant(admin, "bob", "READ", "registered_model", "m", "team-a")
        listed = admin.get("/api/2.0/heron/grants/list", params={"principal": "bob"}).json()
        on_models = [g for g in listed["grants"] if g["securable_type"] == "registered_model"]
        assert [(g["securable_id"], g["workspace"]) for g in on_models] == [("m", "team-a")]
    with as_user(server, "bob") as bob:
        assert read(bob, "m", "team-a") == 200
        assert [read(bob, "m", w) for w in ("team-b", "default")] == [403, 403]
        assert searched(bob, "team-a") == ["m"]
        assert searched(bob, "default") == []
        # Listed in team-b by the BROWSE held on the workspace, not read.
        assert searched(bob, "team-b") == ["m"]
        update = {"name": "m", "description": "x"}
        changed = bob.patch(f"{API}/registered-models/update", json=update,
                            headers=within("team-a"))  # fmt: skip
        assert changed.status_code == 403  # READ is not EDIT


def test_mlflow_permission_calls_take_the_request_workspace(server: AuthServer) -> None:
    body = {"username": "bob", "resource_type": "registered_model", "resource_id": "m"}
    with server.admin() as admin:
        granted = admin.post("/api/3.0/mlflow/users/permissions/grant",
                             json={**body, "permission": "READ"},
                             headers=within("team-b"))  # fmt: skip
        assert granted.status_code == 200, granted.text
        rows = admin.get("/api/3.0/mlflow/users/permissions/list",
                         params={"username": "bob"}).json()["permissions"]  # fmt: skip
        on_models = [(r["workspace"], r["resource_pattern"], r["permission"]) for r in rows
                     if r["resource_type"] == "registered_model"]  # fmt: skip
        assert on_models == [("team-b", "m", "READ")]
        answers = [
            admin.get("/api/3.0/mlflow/users/permissions/get", params=body,
                      headers=within(w)).json()["permission"]
            for w in ("team-b", "default")
        ]  # fmt: skip
        assert answers == ["READ", "NO_PERMISSIONS"]
    with as_user(server, "bob") as bob:
        assert [read(bob, "m", w) for w in ("team-b", "default")] == [200, 403]
    with server.admin() as admin:
        revoked = admin.post("/api/3.0/mlflow/users/permissions/revoke", json=body,
                             headers=within("team-b"))  # fmt: skip
        assert revoked.status_code == 200, revoked.text
    with as_user(server, "bob") as bob:
        assert read(bob, "m", "team-b") == 403


def test_owning_a_workspace_model_owns_no_namesake(server: AuthServer) -> None:
    with as_user(server, "alice") as alice:  # EDIT on team-a: she makes `m` there, and owns it
        made = alice.post(f"{API}/registered-models/create", json={"name": "m"},
                          headers=within("team-a"))  # fmt: skip
        assert made.status_code == 200, made.text
        for workspace in ("default", "team-b"):
            refused = alice.request("DELETE", f"{API}/registered-models/delete", json={"name": "m"},
                                   headers=within(workspace))  # fmt: skip
            assert refused.status_code == 403, workspace
        deleted = alice.request("DELETE", f"{API}/registered-models/delete", json={"name": "m"},
                               headers=within("team-a"))  # fmt: skip
        assert deleted.status_code == 200, deleted.text
    with server.admin() as admin:
        kept = [read(admin, "m", w) for w in ("default", "team-b", "team-a")]
        assert kept == [200, 200, 404]


def test_rename_and_delete_keep_each_workspace_grants(server: AuthServer) -> None:
    with server.admin() as admin:
        admin.post(f"{API}/registered-models/create", json={"name": "m"},
                   headers=within("team-a"))  # fmt: skip
        grant(admin, "bob", "READ", "registered_model", "m", "team-a")
        grant(admin, "alice", "READ", "registered_model", "m", "default")
        renamed = admin.post(f"{API}/registered-models/rename",
                             json={"name": "m", "new_name": "n"},
                             headers=within("team-a"))  # fmt: skip
        assert renamed.status_code == 200, renamed.text
    with as_user(server, "bob") as bob:
        assert read(bob, "n", "team-a") == 200
    with as_user(server, "alice") as alice:
        assert read(alice, "m", "default") == 200  # default's `m` kept its grant
    with server.admin() as admin:
        gone = admin.request("DELETE", f"{API}/registered-models/delete", json={"name": "n"},
                            headers=within("team-a"))  # fmt: skip
        assert gone.status_code == 200
        # A new `n` in team-a does not inherit the grants of the deleted one.
        admin.post(f"{API}/registered-models/create", json={"name": "n"},
                   headers=within("team-a"))  # fmt: skip
    with as_user(server, "bob") as bob:
        assert read(bob, "n", "team-a") == 403
    with as_user(server, "alice") as alice:
        assert read(alice, "m", "default") == 200


def test_moved_to_default_a_model_keeps_its_grants(server: AuthServer) -> None:
    with server.admin() as admin:
        admin.post(f"{API}/registered-models/create", json={"name": "solo"},
                   headers=within("team-b"))  # fmt: skip
        grant(admin, "bob", "READ", "registered_model", "solo", "team-b")
        admin.request("DELETE", f"{API}/registered-models/delete", json={"name": "m"},
                     headers=within("team-b"))  # fmt: skip
        moved = admin.delete(f"{WS}/team-b", params={"mode": "SET_DEFAULT"})
        assert moved.status_code in (200, 204), moved.text
    with as_user(server, "bob") as bob:
        assert read(bob, "solo", "default") == 200
        assert searched(bob, "default") == ["solo"]


def test_a_model_grant_names_a_model_not_a_workspace(server: AuthServer) -> None:
    with server.admin() as admin:
        refused = admin.post(GRANT, json={
            "principal": "bob", "privilege": "READ", "securable_type": "registered_model",
            "securable_id": "team-b/m",
        })  # fmt: skip
        assert refused.status_code == 400
        assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert "X-MLFLOW-WORKSPACE" in refused.json()["message"]
    with as_user(server, "bob") as bob:
        assert read(bob, "m", "team-b") == 403


def test_a_role_reaches_the_models_of_its_own_workspace(server: AuthServer) -> None:
    roles = "/api/3.0/mlflow/roles"
    with server.admin() as admin:
        admin.post(f"{API}/registered-models/create", json={"name": "m"},
                   headers=within("team-a"))  # fmt: skip
        made = admin.post(f"{roles}/create", json={"name": "readers", "workspace": "team-b"})
        assert made.status_code == 200, made.text
        role_id = made.json()["role"]["id"]
        for pattern in ("*", "solo"):
            added = admin.post(f"{roles}/permissions/add", json={
                "role_id": role_id, "resource_type": "registered_model",
                "resource_pattern": pattern, "permission": "READ"})  # fmt: skip
            assert added.status_code == 200, added.text
        assigned = admin.post(f"{roles}/assign", json={"username": "bob", "role_id": role_id})
        assert assigned.status_code == 200, assigned.text
        for workspace in ("default", "team-a"):
            admin.post(f"{API}/registered-models/create", json={"name": "solo"},
                       headers=within(workspace))  # fmt: skip
    with as_user(server, "bob") as bob:
        assert read(bob, "m", "team-b") == 200
        assert [read(bob, "m", w) for w in ("default", "team-a")] == [403, 403]
        assert [read(bob, "solo", w) for w in ("default", "team-a")] == [403, 403]
        assert searched(bob, "default") == []


def test_a_deny_on_a_model_wins_over_a_grant_on_its_workspace(server: AuthServer) -> None:
    with server.admin() as admin:
        admin.post(f"{API}/registered-models/create", json={"name": "open"},
                   headers=within("team-b"))  # fmt: skip
        grant(admin, "bob", "EDIT", "workspace", "team-b")
        denied = admin.post(GRANT, json={
            "principal": "bob", "privilege": "BROWSE", "securable_type": "registered_model",
            "securable_id": "m", "deny": True}, headers=within("team-b"))  # fmt: skip
        assert denied.status_code == 200, denied.text
    with as_user(server, "bob") as bob:
        assert [read(bob, name, "team-b") for name in ("m", "open")] == [403, 200]
        assert searched(bob, "team-b") == ["open"]
        update = {"name": "open", "description": "edited"}
        assert bob.patch(f"{API}/registered-models/update", json=update,
                         headers=within("team-b")).status_code == 200  # fmt: skip
