"""Workloads without passwords: a CI job or a pod trades its own OIDC token (from an issuer on
the allow-list, for Heron's audience) for a short-lived Heron token of the service principal
its subject names."""

from __future__ import annotations

from collections.abc import Sequence

from heron.entities.security import AccessToken, PrincipalKind
from heron.errors import NotFound, Unauthenticated
from heron.services.security.audit import AuditTrail
from heron.services.security.oidc import Issuers
from heron.services.security.token_service import TokenService
from heron.store.security import PrincipalStore

LIFETIME_MS = 3_600_000


class WorkloadExchange:
    def __init__(
        self,
        issuers: Issuers,
        allowed_issuers: Sequence[str],
        audience: str,
        principals: PrincipalStore,
        tokens: TokenService,
        audit: AuditTrail,
    ) -> None:
        self._issuers = issuers
        self._allowed = tuple(allowed_issuers)
        self._audience = audience
        self._principals = principals
        self._tokens = tokens
        self._audit = audit

    def exchange(self, subject_token: str) -> tuple[AccessToken, str]:
        """A one-hour `heron_wlt_` token for the service principal named by the `sub` claim
        (an admin creates it, with the grants it needs: nothing is made on the fly)."""
        if not self._allowed:
            raise Unauthenticated("This server trusts no workload identity issuer")
        claims = self._issuers.verify(subject_token, issuers=self._allowed, audience=self._audience)
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("The workload's token has no subject")
        try:
            principal = self._principals.get_principal(PrincipalKind.SERVICE_PRINCIPAL, subject)
        except NotFound:
            self._audit.denied("token_exchange", "service_principal", subject, who=subject)
            raise Unauthenticated(f"No service principal is named {subject!r}") from None
        if principal.disabled:
            raise Unauthenticated(f"Service principal {subject!r} is disabled")
        return self._tokens.issue_workload(principal, f"from {claims['iss']}", LIFETIME_MS)
