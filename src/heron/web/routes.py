"""Routes that carry their `Policy`: every route of the app is one of these, so the app can
refuse to start with a route whose policy nobody declared (`heron.server.policies.guard`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp

from heron.services.access import Policy


class PolicyRoute(Route):
    """A Starlette route with the policy of its caller (`policy`)."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Sequence[str],
        policy: Policy,
        name: str | None = None,
    ) -> None:
        super().__init__(path, endpoint, methods=list(methods), name=name)
        self.policy = policy


class PolicyMount(Mount):
    """A mounted app (the static files) with the policy of every path under it."""

    def __init__(self, path: str, app: ASGIApp, *, policy: Policy, name: str | None = None) -> None:
        super().__init__(path, app=app, name=name)
        self.policy = policy


def policy_of(route: BaseRoute) -> Policy | None:
    """The policy a route was registered with; None when it has none."""
    policy = getattr(route, "policy", None)
    return policy if isinstance(policy, Policy) else None


__all__ = ["PolicyMount", "PolicyRoute", "policy_of"]
