"""Personal access tokens and service principals' tokens: made, listed, revoked, rotated."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from heron.entities.security import AccessToken, Principal, PrincipalKind
from heron.errors import InvalidParameter, NotFound
from heron.services.access import current_identity, decide
from heron.services.security import tokens
from heron.services.security.audit import AuditTrail
from heron.services.security.principals import check_name, require_admin
from heron.store.security import PrincipalStore, SecurityStateStore, TokenStore

DAY_MS = 86_400_000
MAX_DAYS = 366
DEFAULT_SCOPES = ("read", "write")


def check_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    if not scopes:
        raise InvalidParameter(f"A token needs at least one scope of {', '.join(tokens.SCOPES)}")
    unknown = sorted(set(scopes) - set(tokens.SCOPES))
    if unknown:
        raise InvalidParameter(f"Unknown scope(s) {unknown}: use {', '.join(tokens.SCOPES)}")
    return tuple(s for s in tokens.SCOPES if s in scopes)


class TokenService:
    def __init__(
        self,
        principals: PrincipalStore,
        token_store: TokenStore,
        state: SecurityStateStore,
        audit: AuditTrail,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._principals = principals
        self._tokens = token_store
        self._state = state
        self._audit = audit
        self._clock = clock

    def _owner(self, service_principal: str | None) -> Principal:
        identity = current_identity()
        if service_principal is not None:
            require_admin(identity, "make or see a service principal's tokens")
            return self._principals.get_principal(
                PrincipalKind.SERVICE_PRINCIPAL, service_principal
            )
        signed_in = identity.principal_id is not None
        decide(identity, "update", "token", identity.name, allowed=signed_in,
               refusal="Sign in as a user to manage your tokens")  # fmt: skip
        assert identity.principal_id is not None  # noqa: S101 - decided above
        return self._principals.get_principal_by_id(identity.principal_id)

    def create_token(
        self,
        name: str,
        *,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        expires_in_days: int = 90,
        service_principal: str | None = None,
    ) -> tuple[AccessToken, str]:
        """A new token and its secret text (shown this once; only a hash is kept)."""
        owner = self._owner(service_principal)
        if not isinstance(expires_in_days, int) or not 0 < expires_in_days <= MAX_DAYS:
            raise InvalidParameter(f"expires_in_days must be 1 to {MAX_DAYS}")
        return self._issue(owner, check_name("Token name", name), check_scopes(scopes),
                           expires_in_days * DAY_MS)  # fmt: skip

    def issue_workload(
        self, owner: Principal, name: str, lifetime_ms: int
    ) -> tuple[AccessToken, str]:
        """A short-lived token for a workload that proved who it is (see workloads.py)."""
        return self._issue(owner, name[:256], tokens.DEFAULT_WORKLOAD_SCOPES, lifetime_ms,
                           prefix=tokens.WORKLOAD)  # fmt: skip

    def _issue(
        self,
        owner: Principal,
        name: str,
        scopes: tuple[str, ...],
        lifetime_ms: int,
        *,
        prefix: str | None = None,
    ) -> tuple[AccessToken, str]:
        if prefix is None:
            prefix = tokens.PERSONAL if owner.kind == PrincipalKind.USER else tokens.SERVICE
        made = tokens.new_token(prefix)
        now = int(self._clock() * 1000)
        token = AccessToken(
            token_id=made.token_id, principal_id=owner.principal_id, name=name, scopes=scopes,
            created_time=now, expires_time=now + lifetime_ms,
            secret_hash=tokens.secret_hash(self._state.secret("token_key"), made.secret),
        )  # fmt: skip
        self._tokens.create_token(token)
        self._audit.change(
            "create_token", "token", made.token_id,
            after={"owner": owner.name, "name": name, "scopes": list(scopes)},
        )  # fmt: skip
        return token, made.token

    def list_tokens(self, service_principal: str | None = None) -> list[AccessToken]:
        return self._tokens.list_tokens(self._owner(service_principal).principal_id)

    def _mine(self, token_id: str) -> AccessToken:
        found = self._tokens.get_token(token_id)
        identity = current_identity()
        if found is None or (found.principal_id != identity.principal_id and not identity.is_admin):
            raise NotFound(f"Token {token_id!r} does not exist")
        decide(identity, "update", "token", token_id, allowed=True, refusal="")
        return found

    def revoke_token(self, token_id: str) -> None:
        found = self._mine(token_id)
        self._tokens.revoke_token(found.token_id, int(self._clock() * 1000))
        self._audit.change("revoke_token", "token", token_id, before={"name": found.name})

    def rotate_token(self, token_id: str, *, overlap_s: int = 3600) -> tuple[AccessToken, str]:
        """A new token with the old one's name and scopes; the old one keeps working for
        `overlap_s` seconds more (so running jobs can pick the new one up), then expires."""
        found = self._mine(token_id)
        if found.revoked_time is not None:
            raise InvalidParameter(f"Token {token_id!r} is revoked; make a new one")
        if not isinstance(overlap_s, int) or not 0 <= overlap_s <= 30 * 86_400:
            raise InvalidParameter("overlap_s must be 0 to 2592000 (30 days)")
        owner = self._principals.get_principal_by_id(found.principal_id)
        lifetime = (found.expires_time or 0) - found.created_time
        new = self._issue(owner, found.name, found.scopes, max(lifetime, DAY_MS))
        ends = int(self._clock() * 1000) + overlap_s * 1000
        if found.expires_time is None or ends < found.expires_time:
            self._tokens.expire_token(found.token_id, ends)
        self._audit.change(
            "rotate_token", "token", token_id, after={"replaced_by": new[0].token_id}
        )
        return new
