"""Deny by default: every route of the app carries a declared `Policy`, the app refuses to
start without one, and each request is admitted by the authorizer before its route runs.

`table(routes)` lists every (method, path, policy) the app serves, for tests and tools that
walk the whole API (a check that every route asks the authorizer; a run as two users)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from heron.server.routing import PathTable
from heron.services.access import Authorizer, Policy, current_identity
from heron.web.routes import policy_of


@dataclass(frozen=True, slots=True)
class RoutePolicy:
    """One route of the app: a method, its path (a template: `/runs/{run_id}`; a mount
    ends in `/{path:path}`) and the policy it was declared with (None: undeclared)."""

    method: str
    path: str
    policy: Policy | None


class UndeclaredPolicy(RuntimeError):
    """A route without a declared policy: the app does not start with one."""


def table(routes: Iterable[BaseRoute]) -> list[RoutePolicy]:
    """Every method and path of `routes`, with its policy (HEAD beside GET left out)."""
    return [
        RoutePolicy(method, path, policy_of(route))
        for path, route in _walk(routes, "")
        for method in sorted(_methods(route))
    ]


def guard(routes: Sequence[BaseRoute], authorizer: Authorizer) -> list[BaseRoute]:
    """`routes`, each answering only after `authorizer.admit` lets the caller in.

    Raises:
        UndeclaredPolicy: some route has no declared policy.
    """
    missing = [f"{r.method} {r.path}" for r in table(routes) if r.policy is None]
    if missing:
        raise UndeclaredPolicy(
            "Every route needs a declared policy (heron.services.access.Policy); none for: "
            + ", ".join(missing)
        )
    admitted: set[int] = set()  # a route served under two prefixes is one object
    for _, route in _walk(routes, ""):
        policy = policy_of(route)
        if policy is None or id(route) in admitted:
            continue
        if not isinstance(route, Route | Mount):
            raise UndeclaredPolicy(f"Cannot admit callers to {route!r}: not a Route or Mount")
        route.app = _Admit(route.app, policy, authorizer)
        admitted.add(id(route))
    return list(routes)


class _Admit:
    """Asks the authorizer to admit the caller to a route, then runs it."""

    __slots__ = ("app", "authorizer", "policy")

    def __init__(self, app: ASGIApp, policy: Policy, authorizer: Authorizer) -> None:
        self.app = app
        self.policy = policy
        self.authorizer = authorizer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.authorizer.admit(current_identity(), self.policy)
        await self.app(scope, receive, send)


def _walk(routes: Iterable[BaseRoute], prefix: str) -> Iterator[tuple[str, BaseRoute]]:
    """(full path, route) of each route an app dispatches to: the routes of a PathTable one
    by one; a mount as itself (its app serves every path under it)."""
    for route in routes:
        if isinstance(route, PathTable):
            for path, inner in route.entries:
                yield prefix + path, inner
        elif isinstance(route, Mount) and policy_of(route) is None and route.routes:
            yield from _walk(route.routes, prefix + route.path)
        elif isinstance(route, Mount):
            yield prefix + route.path + "/{path:path}", route
        elif isinstance(route, Route):
            yield prefix + route.path, route
        else:
            yield prefix + repr(route), route


def _methods(route: BaseRoute) -> set[str]:
    if isinstance(route, Route):
        return set(route.methods or ("GET",)) - {"HEAD"}
    return {"*"}  # a mount: whatever its app takes
