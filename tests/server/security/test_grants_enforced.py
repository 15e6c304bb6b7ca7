"""`--auth` answers from grants: each user reads and changes only what was granted to them,
their groups or their roles, or what they made themselves (a real server, SQLite and
PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.server.security.conftest import AuthServer, create_user

API = "/api/2.0/mlflow"
HERON = "/api/2.0/heron"


@pytest.fixture
def users(auth_server: AuthServer) -> Iterator[tuple[httpx.Client, httpx.Client]]:
    """alice and bob: two users with no grant yet."""
    create_user(auth_server, "alice", "alice-password")
    create_user(auth_server, "bob", "bob-password")
    with (
        auth_server.client(("alice", "alice-password")) as alice,
        auth_server.client(("bob", "bob-password")) as bob,
    ):
        yield alice, bob


def ok(resp: httpx.Response) -> Any:
    assert resp.status_code == 200, resp.text
    return resp.json()


def refused(resp: httpx.Response) -> None:
    assert resp.status_code == 403, resp.text
    assert resp.json()["error_code"] == "PERMISSION_DENIED"


def grant(server: AuthServer, principal: str, privilege: str, kind: str, id_: str,
          **extra: Any) -> None:  # fmt: skip
    with server.admin() as admin:
        ok(admin.post(f"{HERON}/grants/grant", json={
            "principal": principal, "principal_type": extra.pop("principal_type", "user"),
            "privilege": privilege, "securable_type": kind, "securable_id": id_, **extra,
        }))  # fmt: skip


def test_an_experiment_is_its_makers_until_they_share_it(
    auth_server: AuthServer, users: tuple[httpx.Client, httpx.Client]
) -> None:
    alice, bob = users
    experiment_id = ok(alice.post(f"{API}/experiments/create", json={"name": "alice-exp"}))[
        "experiment_id"
    ]
    run_id = ok(alice.post(f"{API}/runs/create", json={"experiment_id": experiment_id}))["run"][
        "info"
    ]["run_id"]
    ok(alice.post(f"{API}/runs/log-metric",
                  json={"run_id": run_id, "key": "m", "value": 1, "timestamp": 1}))  # fmt: skip
    refused(bob.get(f"{API}/experiments/get", params={"experiment_id": experiment_id}))
    refused(bob.get(f"{API}/runs/get", params={"run_id": run_id}))
    refused(bob.post(f"{API}/runs/log-metric",
                     json={"run_id": run_id, "key": "m", "value": 2, "timestamp": 2}))  # fmt: skip
    found = ok(bob.post(f"{API}/experiments/search", json={"max_results": 100}))
    assert found.get("experiments", []) == []

    grant(auth_server, "bob", "READ", "experiment", experiment_id)
    assert ok(bob.get(f"{API}/runs/get", params={"run_id": run_id}))["run"]["info"]["run_id"]
    names = [e["name"] for e in ok(bob.post(f"{API}/experiments/search", json={}))["experiments"]]
    assert names == ["alice-exp"]
    refused(bob.post(f"{API}/runs/log-metric",
                     json={"run_id": run_id, "key": "m", "value": 2, "timestamp": 2}))  # fmt: skip
    refused(bob.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id}))


def test_a_run_and_its_files_follow_their_experiment(
    auth_server: AuthServer, users: tuple[httpx.Client, httpx.Client]
) -> None:
    alice, bob = users
    experiment_id = ok(alice.post(f"{API}/experiments/create", json={"name": "files"}))[
        "experiment_id"
    ]
    info = ok(alice.post(f"{API}/runs/create", json={"experiment_id": experiment_id}))["run"][
        "info"
    ]
    path = info["artifact_uri"].removeprefix("mlflow-artifacts:/") + "/secret.txt"
    url = f"/api/2.0/mlflow-artifacts/artifacts/{path}"
    assert alice.put(url, content=b"alice's").status_code == 200
    assert alice.get(url).content == b"alice's"
    refused(bob.get(url))
    refused(bob.put(url, content=b"bob's"))
    refused(bob.get(f"{API}/artifacts/list", params={"run_id": info["run_id"]}))
    assert alice.get(url).content == b"alice's"


def test_a_user_cannot_point_an_experiment_into_anothers_files(
    auth_server: AuthServer, users: tuple[httpx.Client, httpx.Client]
) -> None:
    alice, bob = users
    experiment_id = ok(alice.post(f"{API}/experiments/create", json={"name": "a"}))["experiment_id"]
    refused(bob.post(f"{API}/experiments/create", json={
        "name": "b", "artifact_location": f"mlflow-artifacts:/{experiment_id}/stolen",
    }))  # fmt: skip


def test_models_inherit_from_their_catalog_and_schema_and_a_deny_wins(
    auth_server: AuthServer, users: tuple[httpx.Client, httpx.Client]
) -> None:
    alice, bob = users
    with auth_server.admin() as admin:
        ok(admin.post(f"{HERON}/catalogs/create", json={"name": "ml"}))
        ok(admin.post(f"{HERON}/schemas/create", json={"catalog_name": "ml", "name": "team"}))
    refused(bob.post(f"{API}/registered-models/create", json={"name": "ml.team.churn"}))
    grant(auth_server, "alice", "EDIT", "schema", "ml.team")
    ok(alice.post(f"{API}/registered-models/create", json={"name": "ml.team.churn"}))
    ok(alice.post(f"{API}/registered-models/create", json={"name": "ml.team.fraud"}))
    refused(bob.get(f"{API}/registered-models/get", params={"name": "ml.team.churn"}))
    assert ok(bob.get(f"{API}/registered-models/search")).get(
        "registered_models", []
    ) == []  # fmt: skip

    grant(auth_server, "bob", "READ", "catalog", "ml")
    grant(auth_server, "bob", "BROWSE", "registered_model", "ml.team.fraud", deny=True)
    ok(bob.get(f"{API}/registered-models/get", params={"name": "ml.team.churn"}))
    refused(bob.get(f"{API}/registered-models/get", params={"name": "ml.team.fraud"}))
    found = ok(bob.get(f"{API}/registered-models/search"))["registered_models"]
    assert [m["name"] for m in found] == ["ml.team.churn"]
    refused(bob.patch(f"{API}/registered-models/update",
                      json={"name": "ml.team.churn", "description": "mine"}))  # fmt: skip


def test_promote_limited_to_an_alias_moves_only_that_alias(
    auth_server: AuthServer, users: tuple[httpx.Client, httpx.Client]
) -> None:
    alice, bob = users
    ok(alice.post(f"{API}/registered-models/create", json={"name": "churn"}))
    experiment_id = ok(alice.post(f"{API}/experiments/create", json={"name": "src"}))[
        "experiment_id"
    ]
    run = ok(alice.post(f"{API}/runs/create", json={"experiment_id": experiment_id}))["run"]
    source = run["info"]["artifact_uri"] + "/model"
    ok(alice.post(f"{API}/model-versions/create", json={"name": "churn", "source": source}))
    alias = {"name": "churn", "alias": "champion", "version": "1"}
    refused(bob.post(f"{API}/registered-models/alias", json=alias))
    grant(auth_server, "bob", "PROMOTE", "registered_model", "churn", aliases=["staging"])
    ok(bob.post(f"{API}/registered-models/alias", json={**alias, "alias": "staging"}))
    refused(bob.post(f"{API}/registered-models/alias", json=alias))
    refused(bob.post(f"{API}/model-versions/transition-stage",
                     json={"name": "churn", "version": "1", "stage": "Production",
                           "archive_existing_versions": False}))  # fmt: skip
    refused(bob.patch(f"{API}/registered-models/update",
                      json={"name": "churn", "description": "x"}))  # fmt: skip
    ok(alice.post(f"{API}/registered-models/alias", json=alias))


def test_a_group_grant_counts_for_its_members(
    auth_server: AuthServer, users: tuple[httpx.Client, httpx.Client]
) -> None:
    alice, bob = users
    experiment_id = ok(alice.post(f"{API}/experiments/create", json={"name": "team"}))[
        "experiment_id"
    ]
    with auth_server.admin() as admin:
        ok(
            admin.post(
                f"{HERON}/principals/create", json={"principal_type": "group", "name": "readers"}
            )
        )
        ok(admin.post(f"{HERON}/groups/members/add",
                      json={"group": "readers", "member": "bob"}))  # fmt: skip
    refused(bob.get(f"{API}/experiments/get", params={"experiment_id": experiment_id}))
    grant(auth_server, "readers", "READ", "experiment", experiment_id, principal_type="group")
    ok(bob.get(f"{API}/experiments/get", params={"experiment_id": experiment_id}))


def test_mlflow_permissions_map_onto_grants(
    auth_server: AuthServer, users: tuple[httpx.Client, httpx.Client]
) -> None:
    alice, bob = users
    experiment_id = ok(alice.post(f"{API}/experiments/create", json={"name": "shared"}))[
        "experiment_id"
    ]
    run_id = ok(alice.post(f"{API}/runs/create", json={"experiment_id": experiment_id}))["run"][
        "info"
    ]["run_id"]
    metric = {"run_id": run_id, "key": "m", "value": 1, "timestamp": 1}
    ok(alice.post("/api/3.0/mlflow/users/permissions/grant", json={
        "username": "bob", "resource_type": "experiment", "resource_id": experiment_id,
        "permission": "EDIT",
    }))  # fmt: skip
    ok(bob.post(f"{API}/runs/log-metric", json=metric))
    refused(bob.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id}))
    ok(alice.post("/api/3.0/mlflow/users/permissions/grant", json={
        "username": "bob", "resource_type": "experiment", "resource_id": experiment_id,
        "permission": "DENY",
    }))  # fmt: skip
    refused(bob.post(f"{API}/runs/log-metric", json=metric))
