"""The security layer of the app: with `--auth`, the security services, the authentication
middleware, MLflow's auth API and Heron's security API; without, the claimed identity as
before. The UI's login, token and SSO pages come from `heron.ui.security`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from heron.entities.security import Privilege
from heron.errors import Unauthenticated
from heron.server import api as heron_api
from heron.server.api import auth
from heron.server.api import security as security_api
from heron.server.auth import IdentityMiddleware
from heron.server.authentication import AuthenticationMiddleware
from heron.server.hardening import Hardening, default_allowed_hosts
from heron.server.routing import under_prefixes
from heron.server.wire import Endpoints
from heron.services.access import AllowAll, Authorizer, Identity, Policy
from heron.services.change_watch import ChangeWatch
from heron.services.security.authentication import LoginPolicy
from heron.services.security.bundle import SecurityServices, build_security
from heron.services.security.oidc import Issuers
from heron.services.security.oidc_login import OidcLogin, OidcSettings
from heron.services.security.scopes import ScopedAuthorizer
from heron.services.security.workloads import WorkloadExchange
from heron.services.workspace_gate import WorkspaceGate
from heron.settings import Settings
from heron.store.security import OwnerStore, SecurityStores
from heron.store.workspaces import WorkspaceStore


def hardening(settings: Settings) -> Middleware:
    """The outermost layer: Host and CORS allow-lists, security headers, the access log."""
    return Middleware(
        Hardening,
        allowed_hosts=settings.allowed_hosts or default_allowed_hosts(settings.listen_host),
        cors_origins=settings.cors_allowed_origins,
        open_warning=settings.exposed_without_auth,
        log_requests=settings.access_log,
    )


class AuthenticatedAuthorizer(ScopedAuthorizer):
    """With --auth: only an authenticated caller is admitted to a route that is not public,
    and a token does only what its scopes allow; then the inner authorizer decides."""

    def admit(self, identity: Identity, policy: Policy) -> None:
        if not policy.public and not identity.authenticated:
            raise Unauthenticated("Authentication required")
        super().admit(identity, policy)


@dataclass
class SecurityLayer:
    services: SecurityServices | None
    middleware: list[Middleware] = field(default_factory=list)
    routes: list[BaseRoute] = field(default_factory=list)
    oidc: OidcLogin | None = None

    def authorizer(
        self, inner: Authorizer | None, wrap: Callable[[Authorizer], Authorizer] | None = None
    ) -> Authorizer:
        """What the routes and services ask: with --auth, authenticated callers only, each
        doing what its grants allow (or what `inner` says, when given); without, `inner`
        (default: everyone may do everything). `wrap` (the workspace gate) goes around the
        deciding authorizer, inside the checks of who is calling and of a token's scopes."""
        wrap = wrap or (lambda deciding: deciding)
        if self.services is None:
            return wrap(inner or AllowAll())
        return AuthenticatedAuthorizer(wrap(inner or self.services.authorizer))

    def close(self) -> None:
        if self.services is not None:
            self.services.audit.flush()


def security_layer(settings: Settings, stores: SecurityStores, api: Endpoints) -> SecurityLayer:
    if not settings.auth:
        return SecurityLayer(None, [Middleware(IdentityMiddleware)])
    services = build_security(
        stores,
        policy=LoginPolicy(
            max_failed_logins=settings.max_failed_logins, lockout_s=settings.lockout_s
        ),
        default_privilege=(
            None if settings.default_privilege is None else Privilege(settings.default_privilege)
        ),
    )
    middleware = [
        Middleware(
            AuthenticationMiddleware,
            security=services,
            inline=api.inline,
            trusted_proxies=settings.trusted_proxies,
        )
    ]
    issuers = Issuers()
    workloads = WorkloadExchange(
        issuers, settings.workload_issuers, settings.workload_audience, stores.principals,
        services.tokens, services.audit,
    )  # fmt: skip
    routes: list[BaseRoute] = [
        *auth.routes(api, services),
        *under_prefixes(
            (heron_api.API, heron_api.AJAX), security_api.routes(api, services, workloads)
        ),
    ]
    return SecurityLayer(services, middleware, routes, _oidc(settings, services, stores, issuers))


def _oidc(
    settings: Settings, services: SecurityServices, stores: SecurityStores, issuers: Issuers
) -> OidcLogin | None:
    if not settings.oidc_issuer:
        return None
    if not settings.oidc_client_id or not settings.oidc_client_secret:
        raise ValueError("OIDC login needs --oidc-client-id and a client secret")
    config = OidcSettings(
        issuer=settings.oidc_issuer, client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret, user_claim=settings.oidc_user_claim,
        groups_claim=settings.oidc_groups_claim,
    )  # fmt: skip
    return OidcLogin(
        config, issuers, stores.principals, stores.groups, services.authenticator,
        lambda: stores.state.secret("token_key"),
    )  # fmt: skip


def workspace_gate(
    settings: Settings,
    workspaces: WorkspaceStore,
    owners: OwnerStore,
    services: SecurityServices | None,
    changes: ChangeWatch,
) -> Callable[[Authorizer], Authorizer] | None:
    """With --enable-workspaces: what wraps the deciding authorizer so that objects of other
    workspaces do not exist for a request, and grants on a workspace reach what is in it; it
    forgets where experiments are when `changes` sees a workspace deleted."""
    if not settings.enable_workspaces:
        return None
    may = None if services is None else services.grants.may

    def wrap(deciding: Authorizer) -> Authorizer:
        gate = WorkspaceGate(deciding, workspaces, owners, may)
        changes.register(gate.clear_cache)
        return gate

    return wrap
