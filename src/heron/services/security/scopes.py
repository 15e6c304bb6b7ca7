"""Token scopes: a token does only what its scopes allow, whatever its owner may do."""

from __future__ import annotations

from heron.errors import PermissionDenied
from heron.services.access import Action, Authorizer, Identity, Policy, ResourceType
from heron.services.security import tokens
from heron.store.visibility import Visibility


def require_scope(identity: Identity, scope: str, doing: str) -> None:
    """Passwords and sessions carry no scopes (None): they may do all their owner may."""
    if identity.scopes is not None and not tokens.allows(identity.scopes, scope):
        raise PermissionDenied(
            f"This token may not {doing}: its scopes are {', '.join(identity.scopes)}, "
            f"and {scope!r} is needed"
        )


class ScopedAuthorizer:
    """Wraps the services' authorizer: a read-only token is refused every change."""

    def __init__(self, inner: Authorizer) -> None:
        self._inner = inner

    def admit(self, identity: Identity, policy: Policy) -> None:
        self._inner.admit(identity, policy)

    def check(self, identity: Identity, action: Action, resource: ResourceType, id_: str) -> None:
        scope = "read" if action == "read" else "write"
        require_scope(identity, scope, f"{action} a {resource.replace('_', ' ')}")
        self._inner.check(identity, action, resource, id_)

    def visible(self, identity: Identity, resource: ResourceType) -> Visibility:
        return self._inner.visible(identity, resource)

    def created(self, identity: Identity, resource: ResourceType, id_: str) -> None:
        self._inner.created(identity, resource, id_)

    def renamed(self, resource: ResourceType, id_: str, new_id: str) -> None:
        self._inner.renamed(resource, id_, new_id)

    def removed(self, resource: ResourceType, id_: str) -> None:
        self._inner.removed(resource, id_)
