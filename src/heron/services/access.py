"""Who is calling, and the one hook every service call goes through to ask what they may do.

The server's auth middleware sets the identity of each request; in-process SDK calls run as
the local user. Users, tokens and RBAC plug in as another `Authorizer` without touching any
endpoint or service method."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import getpass
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

Action = Literal["read", "create", "update", "delete"]
ResourceType = Literal["experiment", "run", "registered_model"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """Who is calling. With authentication on, `principal_id` names the user or service
    principal, `group_ids` the groups it belongs to, and `scopes` what its token allows
    (None: a password or a session, which allow everything the principal may do)."""

    name: str
    authenticated: bool = False
    principal_id: int | None = None
    is_admin: bool = False
    group_ids: tuple[int, ...] = ()
    scopes: tuple[str, ...] | None = None
    token_id: str | None = None


ANONYMOUS = Identity(name="anonymous")

_identity: contextvars.ContextVar[Identity | None] = contextvars.ContextVar(
    "heron_identity", default=None
)


def current_identity() -> Identity:
    """The caller of the current request, or the local OS user in embedded mode."""
    identity = _identity.get()
    return _local_user() if identity is None else identity


def attributed(claimed: str | None) -> str:
    """The user a new run or a person's assessment is recorded as: the authenticated caller,
    whatever the request claims; without authentication, the claim (as MLflow does)."""
    identity = current_identity()
    if identity.authenticated or not claimed:
        return identity.name
    return claimed


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
