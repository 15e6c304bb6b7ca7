"""Grants on `*` (every experiment, model or prompt) with --auth and --enable-workspaces on a
real server (SQLite and PostgreSQL): one given in a workspace reaches that workspace's objects
only; one given in `default` (every `*` grant made before workspaces) reaches `default`'s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.security.conftest import AuthServer, create_user, serve_with_auth

API = "/api/2.0/mlflow"
WS = "/api/3.0/mlflow/workspaces"
HERON = "/api/2.0/heron"
PLACES = ("default", "team-a", "team-b")


def within(workspace: str) -> dict[str, str]:
    return {"X-MLFLOW-WORKSPACE": workspace}


@pytest.fixture
def server(tmp_path: Path, serve_settings: Any, database_uri: str) -> Iterator[AuthServer]:
    """team-a and team-b, which bob may enter (BROWSE on each) and nothing more; each of
    them and `default` holds an experiment `e` and a model `m`."""
    with serve_with_auth(tmp_path, serve_settings, database_uri, enable_workspaces=True) as s:
        create_user(s, "bob", "bob-password")
        with s.admin() as admin:
            for team in PLACES[1:]:
                assert admin.post(WS, json={"name": team}).status_code == 201
                grant(admin, "BROWSE", "workspace", team)
            for place in PLACES:
                for path, body in (("experiments/create", {"name": "e"}),
                                   ("registered-models/create", {"name": "m"})):  # fmt: skip
                    made = admin.post(f"{API}/{path}", json=body, headers=within(place))
                    assert made.status_code == 200, made.text
        yield s


def grant(client: httpx.Client, privilege: str, kind: str, name: str,
          workspace: str = "default", *, deny: bool = False) -> None:  # fmt: skip
    granted = client.post(f"{HERON}/grants/grant", json={
        "principal": "bob", "privilege": privilege, "securable_type": kind,
        "securable_id": name, "deny": deny}, headers=within(workspace))  # fmt: skip
    assert granted.status_code == 200, granted.text


def reads(bob: httpx.Client) -> dict[str, tuple[int, int]]:
    """Per workspace: the status of reading its experiment `e` and its model `m`."""
    found = {}
    for place in PLACES:
        e = bob.get(f"{API}/experiments/get-by-name", params={"experiment_name": "e"},
                    headers=within(place))  # fmt: skip
        m = bob.get(f"{API}/registered-models/get", params={"name": "m"}, headers=within(place))
        found[place] = (e.status_code, m.status_code)
    return found


def listed(bob: httpx.Client, place: str) -> tuple[list[str], list[str]]:
    experiments = bob.post(f"{API}/experiments/search", json={"max_results": 100},
                           headers=within(place))  # fmt: skip
    models = bob.get(f"{API}/registered-models/search", headers=within(place))
    assert experiments.status_code == models.status_code == 200, experiments.text
    return (
        sorted(e["name"] for e in experiments.json().get("experiments", [])),
        sorted(m["name"] for m in models.json().get("registered_models", [])),
    )


def test_a_star_grant_in_a_workspace_reaches_its_objects_only(server: AuthServer) -> None:
    with server.admin() as admin:
        grant(admin, "READ", "experiment", "*", "team-a")
        grant(admin, "READ", "registered_model", "*", "team-a")
        listing = admin.get(f"{HERON}/grants/list", params={"principal": "bob"}).json()
    stars = [g for g in listing["grants"] if g["securable_id"] == "*"]
    assert sorted((g["securable_type"], g["workspace"]) for g in stars) == [
        ("experiment", "team-a"), ("registered_model", "team-a")]  # fmt: skip
    with server.client(("bob", "bob-password")) as bob:
        assert reads(bob) == {"default": (403, 403), "team-a": (200, 200), "team-b": (403, 403)}
        # (BROWSE on team-a and team-b lists what is in them; `default` is no one's)
        assert listed(bob, "default") == ([], [])


def test_a_star_grant_in_default_reaches_defaults_objects(server: AuthServer) -> None:
    """As every `*` grant made before workspaces (kept as the bare `*`, no migration)."""
    with server.admin() as admin:
        grant(admin, "READ", "experiment", "*")
        grant(admin, "READ", "registered_model", "*")
    with server.client(("bob", "bob-password")) as bob:
        assert reads(bob) == {"default": (200, 200), "team-a": (403, 403), "team-b": (403, 403)}
        assert listed(bob, "default") == (["Default", "e"], ["m"])


def test_the_workspace_star_and_the_metastore_still_reach_every_workspace(
    server: AuthServer,
) -> None:
    with server.admin() as admin:
        grant(admin, "READ", "workspace", "*")  # every workspace, `default` too
    with server.client(("bob", "bob-password")) as bob:
        assert set(reads(bob).values()) == {(200, 200)}
    with server.admin() as admin:
        revoked = admin.post(f"{HERON}/grants/revoke", json={
            "principal": "bob", "securable_type": "workspace", "securable_id": "*"})  # fmt: skip
        assert revoked.status_code == 200, revoked.text
        grant(admin, "READ", "metastore", "*")
    with server.client(("bob", "bob-password")) as bob:
        assert set(reads(bob).values()) == {(200, 200)}


def test_a_deny_on_an_experiment_wins_over_a_grant_on_its_workspace(
    server: AuthServer,
) -> None:
    with server.admin() as admin:
        grant(admin, "READ", "workspace", "team-a")
        other = admin.post(f"{API}/experiments/create", json={"name": "open"},
                           headers=within("team-a")).json()["experiment_id"]  # fmt: skip
        hidden = admin.get(f"{API}/experiments/get-by-name", params={"experiment_name": "e"},
                           headers=within("team-a")).json()  # fmt: skip
        hidden = hidden["experiment"]["experiment_id"]
        grant(admin, "BROWSE", "experiment", hidden, "team-a", deny=True)
    with server.client(("bob", "bob-password")) as bob:
        for experiment_id, status in ((hidden, 403), (other, 200)):
            got = bob.get(f"{API}/experiments/get", params={"experiment_id": experiment_id},
                          headers=within("team-a"))  # fmt: skip
            assert got.status_code == status, got.text
        assert listed(bob, "team-a")[0] == ["open"]  # BROWSE on team-a, but not `e`


def test_a_workspace_deleted_takes_its_star_grants_with_it(server: AuthServer) -> None:
    with server.admin() as admin:
        assert admin.post(WS, json={"name": "team-c"}).status_code == 201
        made = admin.post(f"{API}/registered-models/create", json={"name": "c-only"},
                          headers=within("team-c"))  # fmt: skip
        assert made.status_code == 200, made.text
        grant(admin, "BROWSE", "workspace", "team-c")
        grant(admin, "READ", "registered_model", "*", "team-c")
        grant(admin, "READ", "experiment", "*", "team-c")
        gone = admin.delete(f"{WS}/team-c", params={"mode": "SET_DEFAULT"})
        assert gone.status_code == 204, gone.text
        left = admin.get(f"{HERON}/grants/list", params={"principal": "bob"}).json()
    assert [g for g in left["grants"] if g["securable_id"] == "*"] == []
    with server.client(("bob", "bob-password")) as bob:
        # team-c's `*` did not become default's `*`: neither its moved model nor default's
        assert reads(bob)["default"] == (403, 403)
        got = bob.get(f"{API}/registered-models/get", params={"name": "c-only"})
        assert got.status_code == 403, got.text


def test_a_roles_star_on_experiments_is_its_workspaces(server: AuthServer) -> None:
    roles = "/api/3.0/mlflow/roles"
    with server.admin() as admin:
        made = admin.post(f"{roles}/create", json={"name": "readers", "workspace": "team-b"})
        assert made.status_code == 200, made.text
        role_id = made.json()["role"]["id"]
        added = admin.post(f"{roles}/permissions/add", json={
            "role_id": role_id, "resource_type": "experiment", "resource_pattern": "*",
            "permission": "READ"})  # fmt: skip
        assert added.status_code == 200, added.text
        assigned = admin.post(f"{roles}/assign", json={"username": "bob", "role_id": role_id})
        assert assigned.status_code == 200, assigned.text
    with server.client(("bob", "bob-password")) as bob:
        assert [reads(bob)[place][0] for place in PLACES] == [403, 403, 200]


@pytest.mark.parametrize("kind", ["experiment", "registered_model"])
def test_a_star_named_with_its_workspace_is_refused(server: AuthServer, kind: str) -> None:
    with server.admin() as admin:
        refused = admin.post(f"{HERON}/grants/grant", json={
            "principal": "bob", "privilege": "READ", "securable_type": kind,
            "securable_id": "team-a/*"})  # fmt: skip
        assert refused.status_code == 400, refused.text
        assert "X-MLFLOW-WORKSPACE" in refused.json()["message"]
        named = admin.post(f"{API}/registered-models/create", json={"name": "*"})
        assert named.status_code == 400, named.text
        assert "every model" in named.json()["message"]
