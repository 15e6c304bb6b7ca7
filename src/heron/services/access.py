"""Who is calling, what each route asks of them (`Policy`), and the one hook every service
call goes through to ask what they may do (`authorize`).

The server's auth middleware sets the identity of each request; in-process SDK calls run as
the local user. Every route of the server and the UI declares a `Policy` when it is
registered, and the app admits a request to it through `Authorizer.admit`; the services then
ask `Authorizer.check` about each object through `authorize`, which records the decision for
whoever listens (`recording`). Users, tokens and RBAC plug in as another `Authorizer`
without touching any route or service method."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import getpass
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal, Protocol

from heron.errors import PermissionDenied
from heron.store.visibility import EVERYTHING, Visibility

# "execute": query a serving endpoint (its invocations), which reading it does not allow;
# "annotate": add feedback, expectations or comments, which changes nothing else;
# "promote": move an alias or a stage (approve a deployment), which editing does not allow.
Action = Literal["read", "create", "update", "delete", "execute", "annotate", "promote"]
ResourceType = Literal[
    "experiment",
    "run",
    "logged_model",
    "registered_model",
    "prompt",  # a registered model that holds a prompt's versions
    "model_version",
    "model_alias",  # named "<model name>@<alias>": moving it is PROMOTE, maybe of that alias only
    "namespace",
    "webhook",
    "trace",
    "artifact",
    "principal",  # users, groups, service principals (the security API)
    "token",
    "grant",
    "audit",
    "serving_endpoint",
    "dataset",
    "judge_cache",
    "workspace",
    "deployment_job",  # a job definition (its tasks), named by its id
    "deployment_job_run",  # a run of one: decided on its registered model
]


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


@dataclass(frozen=True, slots=True)
class Policy:
    """What a route asks of its caller, declared where the route is registered.

    `PUBLIC` routes need no identity (health, version, static files). Every other route
    needs a caller the authorizer admits (`Authorizer.admit`) and then does `action` on a
    `resource`, named by the request field `id_field`: a path parameter, a query parameter
    or a field of the JSON body or form (None when the request names no single object:
    creating one, searching, listing). The service behind the route asks `Authorizer.check`
    about each object it touches; the policy says which object that is, so the route table
    can be walked (`heron.server.policies.table`) to try each route as one user on another
    user's object."""

    action: Action | None
    resource: ResourceType | None
    id_field: str | None = None
    public: bool = False

    def __post_init__(self) -> None:
        named = (self.action is not None, self.resource is not None)
        if named != (not self.public, not self.public):
            raise ValueError("A policy is PUBLIC, or names an action and a resource")


PUBLIC = Policy(None, None, public=True)


def requires(action: Action, resource: ResourceType, id_field: str | None = None) -> Policy:
    """The policy of a route that does `action` on the `resource` its request names in
    `id_field`, e.g. `requires("read", "run", "run_id")`."""
    return Policy(action, resource, id_field)


class Authorizer(Protocol):
    def admit(self, identity: Identity, policy: Policy) -> None:
        """Returns when `identity` may call a route with `policy` at all; raises
        Unauthenticated (or PermissionDenied) otherwise. Runs before the route reads its
        request."""
        ...

    def check(self, identity: Identity, action: Action, resource: ResourceType, id_: str) -> None:
        """Returns when allowed; raises PermissionDenied otherwise. An empty `id_` asks about
        the type as a whole: listing it, or creating a new object of it."""
        ...

    def visible(self, identity: Identity, resource: ResourceType) -> Visibility:
        """Which objects of `resource` a search or list may show `identity` (the stores apply
        it inside their queries)."""
        ...

    def created(self, identity: Identity, resource: ResourceType, id_: str) -> None:
        """`identity` has just made `resource` `id_`: it becomes the owner."""
        ...

    def renamed(self, resource: ResourceType, id_: str, new_id: str) -> None:
        """An object's name changed: what was granted on it follows it."""
        ...

    def removed(self, resource: ResourceType, id_: str) -> None:
        """An object is gone for good: what was granted on it goes too (its name may be
        taken again by someone else)."""
        ...


class AllowAll:
    """Single-user mode: everyone may do everything."""

    def admit(self, identity: Identity, policy: Policy) -> None:
        return None

    def check(self, identity: Identity, action: Action, resource: ResourceType, id_: str) -> None:
        return None

    def visible(self, identity: Identity, resource: ResourceType) -> Visibility:
        return EVERYTHING

    def created(self, identity: Identity, resource: ResourceType, id_: str) -> None:
        return None

    def renamed(self, resource: ResourceType, id_: str, new_id: str) -> None:
        return None

    def removed(self, resource: ResourceType, id_: str) -> None:
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
    try:
        authorizer.check(identity, action, resource, id_)
    except Exception:
        _record(identity, action, resource, id_, allowed=False)
        raise
    _record(identity, action, resource, id_, allowed=True)
    return identity


def decide(
    identity: Identity, action: Action, resource: ResourceType, id_: str, *, allowed: bool,
    refusal: str,
) -> None:  # fmt: skip
    """A decision the security services make themselves (who may manage users, tokens,
    grants and the audit log: admins, or a user about their own), recorded like the
    authorizer's; raises PermissionDenied(`refusal`) when not `allowed`."""
    _record(identity, action, resource, id_, allowed=allowed)
    if not allowed:
        raise PermissionDenied(refusal)


def _record(
    identity: Identity, action: Action, resource: ResourceType, id_: str, *, allowed: bool
) -> None:
    decisions = _decisions.get()
    if decisions is not None:
        decisions.append(Decision(identity=identity, action=action, resource=resource,
                                  id=id_, allowed=allowed))  # fmt: skip


def listing(authorizer: Authorizer, resource: ResourceType) -> Visibility:
    """Asks whether the caller may list `resource` at all (a recorded decision, as
    `authorize(authorizer, "read", resource, "")`) and returns what the list may show."""
    identity = authorize(authorizer, "read", resource, "")
    return authorizer.visible(identity, resource)


def created(authorizer: Authorizer, resource: ResourceType, id_: str) -> None:
    """Tells `authorizer` that the caller has just made `resource` `id_` (its owner grant)."""
    authorizer.created(current_identity(), resource, id_)


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
