"""The workspace switcher (with --enable-workspaces): the workspaces the caller may see, and a
form that makes one the workspace of the UI's next pages (a cookie the server reads when a
request names none in X-MLFLOW-WORKSPACE)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from heron.errors import HeronError
from heron.services.access import requires
from heron.services.workspaces import UI_COOKIE, WorkspaceService
from heron.ui import csrf
from heron.ui.rendering import PageResult, Renderer, field, read_form
from heron.web.routes import PolicyRoute


def routes(renderer: Renderer, service: WorkspaceService) -> list[BaseRoute]:
    def listing(request: Request) -> PageResult:
        current = request.scope.get("state", {}).get("workspace")
        return "workspaces.html", {
            "nav": "workspaces",
            "workspaces": service.list_workspaces(),
            "current": current,
        }

    async def switch(request: Request) -> Response:
        try:
            form = await read_form(request)
            csrf.check(request, form.get(csrf.FIELD, [None])[0])
            chosen = await run_in_threadpool(service.get_workspace, field(form, "workspace"))
        except HeronError as exc:
            return renderer.error(request, exc)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(UI_COOKIE, chosen.name, httponly=True, samesite="strict", path="/")
        return response

    return [
        renderer.get("/workspaces", listing, requires("read", "workspace")),
        PolicyRoute("/workspaces/switch", switch, methods=["POST"],
                    policy=requires("read", "workspace", "workspace")),
    ]  # fmt: skip
