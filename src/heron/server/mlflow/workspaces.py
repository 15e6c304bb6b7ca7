"""MLflow REST: /api/3.0/mlflow/workspaces (list, create, get, update, delete), and the
middleware that runs each request in the workspace its X-MLFLOW-WORKSPACE header names."""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from heron.entities.workspace import DEFAULT_WORKSPACE, Workspace
from heron.errors import InvalidParameter
from heron.server.authentication import PUBLIC_PATHS, PUBLIC_PREFIXES
from heron.server.routing import MLFLOW_V3
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.change_watch import ChangeWatch
from heron.services.workspaces import (
    MAX_NAME,
    UI_COOKIE,
    WorkspaceService,
    refuse_trace_archival,
)
from heron.store.sql.workspaces import not_found
from heron.store.workspaces import workspace_scope

HEADER = b"x-mlflow-workspace"


def workspace_json(w: Workspace) -> Json:
    body: Json = {"name": w.name}
    if w.description is not None:
        body["description"] = w.description
    if w.default_artifact_root is not None:
        body["default_artifact_root"] = w.default_artifact_root
    return body


def no_trace_archival(f: Fields) -> None:
    """MLflow's `trace_archival_config` ({location, retention}), refused when it asks for
    anything (see refuse_trace_archival)."""
    config = f.message("trace_archival_config")
    if config is not None:
        refuse_trace_archival(config.string("location"), config.string("retention"))


def routes(api: Endpoints, service: WorkspaceService, *, enabled: bool) -> list[BaseRoute]:
    def on() -> None:
        # Off, MLflow answers 503, which its client retries for minutes; a plain-text 404
        # is what the client reads at once as "this server does not expose workspace APIs".
        if not enabled:
            raise HTTPException(
                404,
                "Workspaces are disabled on this server: start it with "
                "`heron server --enable-workspaces`",
            )

    def list_workspaces(f: Fields) -> Json:
        on()
        return {"workspaces": [workspace_json(w) for w in service.list_workspaces()]}

    def create(f: Fields) -> Json:
        on()
        name = f.required_string("name")
        no_trace_archival(f)
        if name == DEFAULT_WORKSPACE:
            raise InvalidParameter(
                f"The {DEFAULT_WORKSPACE!r} workspace is reserved and cannot be created"
            )
        made = service.create_workspace(
            name,
            description=f.string("description"),
            default_artifact_root=f.string("default_artifact_root"),
        )
        return {"workspace": workspace_json(made)}

    def get(f: Fields) -> Json:
        on()
        return {
            "workspace": workspace_json(service.get_workspace(f.required_string("workspace_name")))
        }

    def update(f: Fields) -> Json:
        on()
        no_trace_archival(f)
        changed = service.update_workspace(
            f.required_string("workspace_name"),
            description=f.string("description"),
            default_artifact_root=f.string("default_artifact_root"),
        )
        return {"workspace": workspace_json(changed)}

    def delete(f: Fields) -> Json:
        on()
        service.delete_workspace(
            f.required_string("workspace_name"), f.string("mode") or "RESTRICT"
        )
        return {}

    one = "/workspaces/{workspace_name}"
    found: list[BaseRoute] = []
    for prefix in MLFLOW_V3:
        found += [
            api.route("GET", prefix + "/workspaces", list_workspaces,
                      requires("read", "workspace")),
            # MLflow compat: its client expects 201 for a new workspace, 204 for a deletion.
            api.with_path("POST", prefix + "/workspaces", create,
                          requires("create", "workspace"), status=201),
            api.with_path("GET", prefix + one, get,
                          requires("read", "workspace", "workspace_name")),
            api.with_path("PATCH", prefix + one, update,
                          requires("update", "workspace", "workspace_name")),
            api.with_path("DELETE", prefix + one, delete,
                          requires("delete", "workspace", "workspace_name"), status=204),
        ]  # fmt: skip
    return found


def _named(headers: list[tuple[bytes, bytes]]) -> tuple[str, bool]:
    """The header's workspace; else the UI's choice (its cookie); else `default`. True when
    the header named it."""
    chosen = None
    for key, value in headers:
        if key == HEADER:
            return value.decode("latin-1").strip() or DEFAULT_WORKSPACE, True
        if key == b"cookie" and chosen is None:
            try:
                chosen = SimpleCookie(value.decode("latin-1")).get(UI_COOKIE)
            except CookieError:
                chosen = None
    return (chosen.value if chosen is not None and chosen.value else DEFAULT_WORKSPACE), False


class WorkspaceMiddleware:
    """With workspaces enabled: each HTTP request runs in the workspace its
    X-MLFLOW-WORKSPACE header names (`default` without one); an unknown one is refused with
    RESOURCE_DOES_NOT_EXIST before the route reads anything. The paths served without
    credentials (health, login, server-info...) read nothing of a workspace and run in
    `default` unchecked, so a caller who has not signed in cannot probe which names exist.

    A workspace seen to exist is remembered until any process deletes a workspace: every
    other request first asks `changes` (the store's version; see ChangeWatch), so a deletion
    holds for every worker from its next request on."""

    def __init__(self, app: ASGIApp, service: WorkspaceService, changes: ChangeWatch) -> None:
        self.app = app
        self._service = service
        self._changes = changes
        self._known: set[str] = set()  # workspaces seen to exist
        changes.register(self._known.clear)

    async def _exists(self, name: str) -> bool:
        if name in self._known:
            return True
        if len(name) > MAX_NAME or not await run_in_threadpool(self._service.exists, name):
            return False
        if len(self._known) > 10_000:
            self._known.clear()
        self._known.add(name)
        return True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES):
            with workspace_scope(DEFAULT_WORKSPACE):
                await self.app(scope, receive, send)
            return
        # Read here, not in the threadpool: 16 bytes of a file on SQLite, on PostgreSQL one
        # primary-key read on a connection kept for it (39 us of CPU in process), which costs
        # less than the hop (0.45 ms of server CPU a request, measured on a loaded machine).
        self._changes.refresh()
        name, named = _named(scope["headers"])
        if name != DEFAULT_WORKSPACE and not await self._exists(name):
            if named:
                raise not_found(name[:80])
            name = DEFAULT_WORKSPACE  # the UI's choice, deleted since
        scope.setdefault("state", {})["workspace"] = name  # the UI shows it
        with workspace_scope(name):
            await self.app(scope, receive, send)
