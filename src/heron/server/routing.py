"""Route lookup by one dict access: MLflow's paths are fixed strings, so no regex scan."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from starlette.datastructures import URLPath
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, Match, NoMatchFound, Route
from starlette.types import Receive, Scope, Send

from heron.web.routes import PolicyRoute


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root_path: str = scope.get("root_path", "")
    if root_path and path.startswith(root_path):
        return path[len(root_path) :]
    return path


class PathTable(BaseRoute):
    """Routes without path parameters, found by path and method in a dict."""

    def __init__(self, routes: Iterable[tuple[str, Route]]) -> None:
        self._by_path: dict[str, dict[str, Route]] = {}
        self._routes: list[Route] = []
        self.entries: list[tuple[str, Route]] = []  # (full path, route): what it serves
        for prefix, route in routes:
            if "{" in route.path:
                raise ValueError(f"{route.path!r} has path parameters; mount it instead")
            by_method = self._by_path.setdefault(prefix + route.path, {})
            for method in route.methods or ("GET", "HEAD"):
                by_method[method] = route
            self._routes.append(route)
            self.entries.append((prefix + route.path, route))

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        by_method = self._by_path.get(_route_path(scope))
        if by_method is None:
            return Match.NONE, {}
        route = by_method.get(scope["method"])
        if route is None:
            return Match.PARTIAL, {}
        return Match.FULL, {"endpoint": route.endpoint}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        by_method = self._by_path.get(_route_path(scope), {})
        route = by_method.get(scope["method"])
        if route is None:
            raise HTTPException(status_code=405, headers={"Allow": ", ".join(sorted(by_method))})
        await route.app(scope, receive, send)

    def url_path_for(self, name: str, /, **path_params: Any) -> URLPath:
        for route in self._routes:
            try:
                return route.url_path_for(name, **path_params)
            except NoMatchFound:
                continue
        raise NoMatchFound(name, path_params)


# MLflow's REST prefixes, each also served under /ajax-api as MLflow's UI calls it.
MLFLOW_V2 = ("/api/2.0/mlflow", "/ajax-api/2.0/mlflow")
MLFLOW_V3 = ("/api/3.0/mlflow", "/ajax-api/3.0/mlflow")


def under_prefixes(prefixes: Sequence[str], routes: Sequence[PolicyRoute]) -> list[BaseRoute]:
    """`routes` served under each prefix: fixed paths in one PathTable, the rest as routes of
    their own (not a Mount: a Mount would take every path under the prefix, so a fixed path
    asked with the wrong method would answer 404 instead of 405). Each keeps its policy."""
    fixed = [r for r in routes if "{" not in r.path]
    templated = [r for r in routes if "{" in r.path]
    table: list[BaseRoute] = [PathTable((p, r) for p in prefixes for r in fixed)]
    return table + [
        PolicyRoute(
            p + r.path, r.endpoint, methods=list(r.methods or ()), name=r.name, policy=r.policy
        )
        for p in prefixes
        for r in templated
    ]
