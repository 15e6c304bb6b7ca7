"""Two users and a group walk every route of the app (each method, HEAD beside GET; the
other's ids in the path, the query and the body, snake_case and camelCase) against a real
`--auth` server on SQLite and on PostgreSQL. Neither reads, changes or lists the other's
private experiments, runs, models, artifacts, traces, logged models or workspace, though both
belong to a group with a grant on a shared experiment; and any answer that succeeded without
an authorization decision fails the walk."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.security.conftest import ADMIN, make_admin
from tests.server.security.walk import (
    WALK_HEADER,
    Owner,
    Recorder,
    WalkRequest,
    populate,
    requests_for,
    snapshot,
)

from heron.app import create_app
from heron.server.policies import RoutePolicy, table
from heron.settings import Settings

PASSWORDS = {"alice": "alice-password", "bob": "bob-password"}
CSRF = "w" * 43  # a double-submit pair: the same token in the cookie and the form


@pytest.fixture
def walked(tmp_path: Path, serve_app: Any, database_uri: str) -> Iterator[tuple[str, Recorder]]:
    make_admin(database_uri)
    settings = Settings(
        backend_store_uri=database_uri, artifacts_destination=str(tmp_path / "artifacts"),
        auth=True, enable_workspaces=True,
    )  # fmt: skip
    recorder = Recorder(create_app(settings))
    with serve_app(recorder) as url:
        yield url, recorder


def _setup(url: str) -> dict[str, Owner]:
    with httpx.Client(base_url=url, auth=ADMIN, timeout=60) as admin:
        for name, password in PASSWORDS.items():
            made = admin.post(
                "/api/2.0/mlflow/users/create", json={"username": name, "password": password}
            )
            assert made.status_code == 200, made.text
        team = admin.post(
            "/api/2.0/heron/principals/create", json={"principal_type": "group", "name": "team"}
        )
        assert team.status_code == 200, team.text
        for name in PASSWORDS:
            added = admin.post("/api/2.0/heron/groups/members/add",
                               json={"group": "team", "member": name})  # fmt: skip
            assert added.status_code == 200, added.text
    owners = {}
    for name, password in PASSWORDS.items():
        with httpx.Client(base_url=url, auth=(name, password), timeout=60) as http:
            owners[name] = populate(http, name)
    with httpx.Client(base_url=url, auth=("alice", PASSWORDS["alice"]), timeout=60) as alice:
        shared = alice.post("/api/2.0/mlflow/experiments/create", json={"name": "team-shared"})
        granted = alice.post("/api/2.0/heron/grants/grant", json={
            "principal": "team", "principal_type": "group", "privilege": "READ",
            "securable_type": "experiment", "securable_id": shared.json()["experiment_id"],
        })  # fmt: skip
        assert granted.status_code == 200, granted.text
    with httpx.Client(base_url=url, auth=ADMIN, timeout=60) as admin:
        for name, owner in owners.items():  # a workspace each, theirs to manage
            owner.ids["workspace"] = f"{name}-ws"
            made = admin.post(
                "/api/3.0/mlflow/workspaces",
                json={"name": f"{name}-ws", "description": owner.marker},
            )
            assert made.status_code == 201, made.text
            granted = admin.post("/api/2.0/heron/grants/grant", json={
                "principal": name, "privilege": "MANAGE", "securable_type": "workspace",
                "securable_id": f"{name}-ws",
            })  # fmt: skip
            assert granted.status_code == 200, granted.text
    return owners


def _send(http: httpx.Client, request: WalkRequest, walk_id: str, owner: Owner) -> httpx.Response:
    headers = {WALK_HEADER: walk_id, "x-mlflow-experiment-id": owner.ids["experiment"]}
    if request.form:
        data = {k: v if isinstance(v, str | list) else str(v)
                for k, v in (request.body or {}).items()}  # fmt: skip
        data["csrf_token"] = CSRF
        return http.request(request.method, request.path, params=request.params,
                            data=data if request.method != "GET" else None,
                            headers=headers)  # fmt: skip
    return http.request(
        request.method, request.path, params=request.params, json=request.body, headers=headers
    )


def _succeeded(request: WalkRequest, resp: httpx.Response) -> bool:
    if resp.is_success:
        return True
    # A form answers 303 both ways; a refusal carries its message in the flash cookie.
    return request.form and resp.status_code == 303 and "heron_flash" not in resp.cookies


def _walk(
    url: str, recorder: Recorder, routes: list[RoutePolicy], walker: str, owner: Owner
) -> list[str]:
    problems = []
    with httpx.Client(base_url=url, auth=(walker, PASSWORDS[walker]), timeout=60,
                      cookies={"heron_csrf": CSRF}) as http:  # fmt: skip
        for route in routes:
            if route.policy is None or route.policy.public:
                continue
            for request in requests_for(route, owner, walker):
                walk_id = uuid.uuid4().hex
                resp = _send(http, request, walk_id, owner)
                what = f"{walker} {request.method} {request.path} -> {resp.status_code}"
                if owner.marker in resp.text:
                    problems.append(f"{what}: answered {owner.name}'s secret")
                if _succeeded(request, resp) and not recorder.seen.get(walk_id):
                    problems.append(f"{what}: succeeded without an authorization decision")
                if resp.status_code >= 500:
                    problems.append(f"{what}: {resp.text[:200]}")
    return problems


def test_neither_user_reaches_the_others_objects_on_any_route(
    walked: tuple[str, Recorder],
) -> None:
    url, recorder = walked
    owners = _setup(url)
    routes = table(recorder.app.routes)  # type: ignore[attr-defined]
    problems = []
    with httpx.Client(base_url=url, auth=ADMIN, timeout=60) as admin:
        for walker, owner in (("bob", owners["alice"]), ("alice", owners["bob"])):
            before = snapshot(admin, owner)
            problems += _walk(url, recorder, routes, walker, owner)
            after = snapshot(admin, owner)
            changed = sorted(k for k in before if before[k] != after[k])
            if changed:
                problems.append(f"{walker} changed {owner.name}'s {', '.join(changed)}")
            with httpx.Client(base_url=url, auth=(owner.name, PASSWORDS[owner.name])) as own:
                if own.get("/api/2.0/mlflow/users/current").status_code != 200:
                    problems.append(f"{walker} changed {owner.name}'s password")
    assert not problems, "\n".join(problems)
