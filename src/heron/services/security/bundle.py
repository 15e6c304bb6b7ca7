"""build_security(stores, ...): the security services, built once and wired together."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from heron.entities.security import Privilege
from heron.services.security.audit import AuditTrail
from heron.services.security.authentication import Authenticator, LoginPolicy
from heron.services.security.authorizer import GrantAuthorizer
from heron.services.security.epoch import EpochWatch
from heron.services.security.grant_service import GrantService
from heron.services.security.mlflow_permissions import MlflowPermissions, RoleGrants
from heron.services.security.principals import PrincipalService
from heron.services.security.token_service import TokenService
from heron.store.security import SecurityStores


@dataclass(frozen=True, slots=True)
class SecurityServices:
    audit: AuditTrail
    principals: PrincipalService
    tokens: TokenService
    grants: GrantService
    mlflow: MlflowPermissions
    authenticator: Authenticator
    epoch: EpochWatch
    authorizer: GrantAuthorizer


def build_security(
    stores: SecurityStores,
    *,
    policy: LoginPolicy | None = None,
    default_privilege: Privilege | None = None,
    coalesce_s: float = 60.0,
    clock: Callable[[], float] = time.time,
) -> SecurityServices:
    audit = AuditTrail(stores.audit, coalesce_s=coalesce_s, clock=clock)
    grants = GrantService(
        stores.principals,
        stores.grants,
        audit,
        default_privilege=default_privilege,
        extra_grants=RoleGrants(stores.roles),
    )
    authenticator = Authenticator(
        stores.principals, stores.groups, stores.tokens, stores.sessions, stores.state, audit,
        policy=policy, clock=clock,
    )  # fmt: skip
    authorizer = GrantAuthorizer(grants, stores.grants, stores.owners, audit)
    epoch = EpochWatch(stores.state)
    epoch.register(authenticator.clear_cache)
    epoch.register(grants.clear_cache)
    epoch.register(authorizer.clear_cache)
    return SecurityServices(
        audit=audit,
        principals=PrincipalService(stores.principals, stores.groups, audit),
        tokens=TokenService(stores.principals, stores.tokens, stores.state, audit, clock=clock),
        grants=grants,
        mlflow=MlflowPermissions(stores.principals, stores.groups, grants, stores.roles, audit),
        authenticator=authenticator,
        epoch=epoch,
        authorizer=authorizer,
    )
