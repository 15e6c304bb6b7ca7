"""Token scopes: a token does only what its scopes allow, whatever its owner may do."""

from __future__ import annotations

from heron.errors import PermissionDenied
from heron.services.access import Action, Authorizer, Identity, ResourceType
from heron.services.security import tokens


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

    def check(self, identity: Identity, action: Action, resource: ResourceType, id_: str) -> None:
        scope = "read" if action == "read" else "write"
        require_scope(identity, scope, f"{action} a {resource.replace('_', ' ')}")
        self._inner.check(identity, action, resource, id_)
