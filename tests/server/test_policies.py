"""Deny by default: every route of the app declares its policy, the app refuses to start with
one that does not, each request is admitted by the authorizer, and services record the
authorization decisions a request made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from heron.app import create_app
from heron.errors import PermissionDenied, Unauthenticated
from heron.server.policies import UndeclaredPolicy, guard, table
from heron.services.access import (
    PUBLIC,
    Action,
    AllowAll,
    Decision,
    Identity,
    Policy,
    ResourceType,
    recording,
    requires,
)
from heron.settings import Settings
from heron.web.routes import PolicyRoute

PUBLIC_ROUTES = {
    ("GET", "/health"),
    ("GET", "/version"),
    ("GET", "/api/3.0/mlflow/server-info"),
    ("GET", "/ajax-api/3.0/mlflow/server-info"),
    ("GET", "/ajax-api/3.0/mlflow/ui-telemetry"),
    ("POST", "/ajax-api/3.0/mlflow/ui-telemetry"),
    ("*", "/static/{path:path}"),
}


def test_every_route_of_the_app_declares_a_policy(server_app: Starlette) -> None:
    routes = table(server_app.routes)
    undeclared = [f"{r.method} {r.path}" for r in routes if r.policy is None]
    assert undeclared == []
    served = {r.path for r in routes}
    for prefix in ("/api/2.0/mlflow/", "/api/3.0/mlflow/", "/ajax-api/2.0/mlflow/",
                   "/ajax-api/3.0/mlflow/", "/api/2.0/heron/", "/api/2.0/mlflow-artifacts/",
                   "/v1/traces", "/experiments/", "/runs/", "/ui/", "/static/"):  # fmt: skip
        assert any(path.startswith(prefix) for path in served), prefix
    assert {"GET", "POST", "PATCH", "DELETE", "PUT"} <= {r.method for r in routes}


def test_only_the_meta_routes_and_static_files_are_public(server_app: Starlette) -> None:
    public = {(r.method, r.path) for r in table(server_app.routes) if r.policy == PUBLIC}
    assert public == PUBLIC_ROUTES


def test_a_policy_names_the_field_that_holds_its_object(server_app: Starlette) -> None:
    by_route = {(r.method, r.path): r.policy for r in table(server_app.routes)}
    assert by_route[("GET", "/api/2.0/mlflow/runs/get")] == requires("read", "run", "run_id")
    assert by_route[("POST", "/api/2.0/mlflow/experiments/delete")] == requires(
        "delete", "experiment", "experiment_id"
    )
    assert by_route[("DELETE", "/api/2.0/mlflow/logged-models/{model_id}")] == requires(
        "delete", "logged_model", "model_id"
    )
    assert by_route[("PUT", "/api/2.0/mlflow-artifacts/artifacts/{path:path}")] == requires(
        "update", "artifact", "path"
    )
    assert by_route[("POST", "/ui/runs/{run_id}/tags")] == requires("update", "run", "run_id")


def test_the_route_table_refuses_a_route_without_a_policy() -> None:
    async def bare(request: Any) -> PlainTextResponse:
        return PlainTextResponse("no policy")

    declared = PolicyRoute("/fine", bare, methods=["GET"], policy=PUBLIC)
    with pytest.raises(UndeclaredPolicy, match="GET /bare"):
        guard([declared, Route("/bare", bare, methods=["GET"])], AllowAll())


def test_a_policy_is_public_or_names_an_action_and_a_resource() -> None:
    with pytest.raises(ValueError, match="PUBLIC"):
        Policy("read", None)
    with pytest.raises(ValueError, match="PUBLIC"):
        Policy("read", "run", public=True)


class AdmitsPublicOnly(AllowAll):
    """Lets anyone in to public routes only."""

    def admit(self, identity: Identity, policy: Policy) -> None:
        if not policy.public:
            raise Unauthenticated("Say who you are")


def test_the_authorizer_admits_each_request_before_its_route(
    tmp_path: Path, serve_app: Any
) -> None:
    app = create_app(Settings.for_home(tmp_path), AdmitsPublicOnly())
    with serve_app(app) as url, httpx.Client(base_url=url) as http:
        assert http.get("/health").status_code == 200
        refused = http.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"})
        assert refused.status_code == 401
        assert refused.json()["error_code"] == "UNAUTHENTICATED"
        assert http.get("/").status_code == 401  # a UI page
        assert http.get("/static/heron.css").status_code == 200


class RecordDecisions:
    """Wraps an app: the authorization decisions of each request, by its path."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: dict[str, list[Decision]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with recording() as decisions:
            await self.app(scope, receive, send)
        self.seen[scope["path"]] = decisions


@pytest.fixture
def recorded(tmp_path: Path, serve_app: Any) -> Iterator[tuple[httpx.Client, RecordDecisions]]:
    app = RecordDecisions(create_app(Settings.for_home(tmp_path)))
    with serve_app(app) as url, httpx.Client(base_url=url) as http:
        yield http, app


def test_a_request_records_the_decisions_its_services_made(
    recorded: tuple[httpx.Client, RecordDecisions],
) -> None:
    http, app = recorded
    assert http.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": "0"}).is_success
    assert [(d.action, d.resource, d.id, d.allowed) for d in app.seen[
        "/api/2.0/mlflow/experiments/get"]] == [("read", "experiment", "0", True)]  # fmt: skip
    assert http.get("/health").is_success
    assert app.seen["/health"] == []  # public: nothing to decide
    assert http.get("/").is_success  # a UI page, served in the threadpool
    assert [d.resource for d in app.seen["/"]] == ["experiment"]


class RefusesRuns(AllowAll):
    def check(self, identity: Identity, action: Action, resource: ResourceType, id_: str) -> None:
        if resource == "run":
            raise PermissionDenied(f"No {action} on run {id_}")


def test_a_refusal_is_recorded_too(tmp_path: Path) -> None:
    from heron.services.build import build_services
    from heron.store.sql import open_sql_stores

    settings = Settings.for_home(tmp_path)
    stores = open_sql_stores(settings.backend_store_uri, default_artifact_root="mlflow-artifacts:")
    services = build_services(stores, RefusesRuns(), settings)
    try:
        run = services.runs.create_run("0")
        with recording() as decisions, pytest.raises(PermissionDenied, match="No read on run"):
            services.runs.get_run(run.info.run_id)
        assert [(d.action, d.resource, d.allowed) for d in decisions] == [("read", "run", False)]
    finally:
        services.close()
