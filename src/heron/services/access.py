"""Who is calling, and the one hook every service call goes through to ask what they may do.

The server's auth middleware sets the identity of each request; in-process SDK calls run as
the local user. Services ask through `authorize`, which records each decision for whoever
listens (`recording`). Users, tokens and RBAC plug in as another `Authorizer` without touching
any endpoint or service method."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import getpass
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

Action = Literal["read", "create", "update", "delete"]
ResourceType = Literal["experiment", "run", "registered_model", "artifact"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    name: str
    authenticated: bool = False


ANONYMOUS = Identity(name="anonymous")

_identity: contextvars.ContextVar[Identity | None] = contextvars.ContextVar(
    "heron_identity", default=None
)


def current_identity() -> Identity:
    """The caller of the current request, or the local OS user in embedded mode."""
    identity = _identity.get()
    return _local_user() if identity is None else identity


@functools.cache
def _local_user() -> Identity:
    try:
        return Identity(name=getpass.getuser())
    except (KeyError, OSError):
        return ANONYMOUS


@contextlib.contextmanager
def identity_scope(identity: Identity) -> Iterator[None]:
    token = _identity.set(identity)
    try:
        yield
    finally:
        _identity.reset(token)


class Authorizer(Protocol):
    def check(self, identity: Identity, action: Action, resource: ResourceType, id_: str) -> None:
        """Returns when allowed; raises PermissionDenied otherwise."""
        ...


class AllowAll:
    """Single-user mode: everyone may do everything."""

    def check(self, identity: Identity, action: Action, resource: ResourceType, id_: str) -> None:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """One question a service asked the authorizer, and its answer."""

    identity: Identity
    action: Action
    resource: ResourceType
    id: str
    allowed: bool


_decisions: contextvars.ContextVar[list[Decision] | None] = contextvars.ContextVar(
    "heron_decisions", default=None
)


def authorize(authorizer: Authorizer, action: Action, resource: ResourceType, id_: str) -> Identity:
    """Asks `authorizer` whether the current caller may `action` the `resource` `id_` and
    returns the caller; raises PermissionDenied (or Unauthenticated) when not. Every service
    method asks through here before it touches a store, so the decision is recorded for a
    `recording` block around the call."""
    identity = current_identity()
    decisions = _decisions.get()
    if decisions is None:
        authorizer.check(identity, action, resource, id_)
        return identity
    try:
        authorizer.check(identity, action, resource, id_)
    except Exception:
        decisions.append(Decision(identity=identity, action=action, resource=resource,
                                  id=id_, allowed=False))  # fmt: skip
        raise
    decisions.append(
        Decision(identity=identity, action=action, resource=resource, id=id_, allowed=True)
    )
    return identity


@contextlib.contextmanager
def recording() -> Iterator[list[Decision]]:
    """The authorization decisions made inside the block (in this context, and in the worker
    threads it hands work to), in order. A server wraps a request in it to see whether the
    request was authorized at all:

        with recording() as decisions:
            await app(scope, receive, send)
        assert decisions or route_is_public
    """
    decisions: list[Decision] = []
    token = _decisions.set(decisions)
    try:
        yield decisions
    finally:
        _decisions.reset(token)
