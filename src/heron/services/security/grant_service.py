"""Grants: who holds which privilege on which securable, and the question "may they?".

Nobody grants above their own: besides admins, only a holder of MANAGE on the object may
grant on it, and only privileges they hold there themselves; only an admin or the owner may
hand over ownership. Grants to a principal's groups count as its own, and MLflow's roles add
their permissions (see mlflow_permissions)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from heron.entities.security import Grant, Principal, PrincipalKind, Privilege, SecurableType
from heron.errors import InvalidParameter, PermissionDenied
from heron.services.access import Identity, current_identity, decide
from heron.services.security import decisions
from heron.services.security.audit import AuditTrail
from heron.services.security.decisions import Securable
from heron.services.security.principals import MAX_NAME
from heron.services.security.scopes import require_scope
from heron.store.security import GrantStore, NewGrant, PrincipalStore
from heron.store.workspaces import current_workspace

_CACHE_LIMIT = 50_000
MAX_SECURABLE_ID = 512  # grants.securable_id and role_permissions.resource_pattern


def check_securable(securable_type: object, securable_id: object) -> Securable:
    """A securable named in a request; a registered model or prompt is the one of the
    request's workspace (its `X-MLFLOW-WORKSPACE` header)."""
    try:
        kind = SecurableType(str(securable_type))
    except ValueError:
        names = ", ".join(t.value for t in SecurableType)
        raise InvalidParameter(f"Unknown securable type {securable_type!r}: use {names}") from None
    if not isinstance(securable_id, str) or not 0 < len(securable_id) <= MAX_SECURABLE_ID:
        raise InvalidParameter(
            f"securable_id must be an id or name of 1-{MAX_SECURABLE_ID} characters, or *"
        )
    return in_request_workspace(kind, securable_id)


def in_request_workspace(kind: SecurableType, name: str) -> Securable:
    """`(kind, name)` as its grants are kept: a model's or prompt's name is qualified by the
    request's workspace (decisions.model_key), and so is `*` of experiments, models and
    prompts (every one of that workspace); an experiment's id is the server's."""
    if kind not in decisions.IN_WORKSPACES:
        return kind, name
    if name == "*":
        return kind, decisions.every_key(current_workspace())
    if "/" in name or ":" in name:
        what = kind.value.replace("_", " ")
        raise InvalidParameter(
            f"{name!r} is not {'an' if what[0] in 'aeiou' else 'a'} {what} "
            f"{'id' if kind == SecurableType.EXPERIMENT else 'name'} (it cannot contain '/' or "
            "':'): name it alone, or * for all of the workspace, and the workspace in the "
            "X-MLFLOW-WORKSPACE header"
        )
    if kind == SecurableType.EXPERIMENT:
        return kind, name
    return kind, decisions.model_key(name, current_workspace())


def chain_of(securable: Securable, workspace: str | None = None) -> list[Securable]:
    """The chain of `securable` (decisions.chain); an experiment in `workspace`, else in the
    request's (the workspace gate refuses an experiment of another before grants are asked)."""
    return decisions.chain(*securable, workspace=workspace or current_workspace())


def check_privilege(privilege: object) -> Privilege:
    try:
        return Privilege(str(privilege))
    except ValueError:
        names = ", ".join(p.value for p in Privilege)
        raise InvalidParameter(f"Unknown privilege {privilege!r}: use {names}") from None


class GrantService:
    def __init__(
        self,
        principals: PrincipalStore,
        grants: GrantStore,
        audit: AuditTrail,
        *,
        default_privilege: Privilege | None = None,
        extra_grants: object = None,
    ) -> None:
        self._principals = principals
        self._grants = grants
        self._audit = audit
        self._default = default_privilege
        self._roles = extra_grants  # RoleGrants, when MLflow's roles are in use
        self._cache: dict[tuple[Any, ...], list[Grant]] = {}
        self._lock = threading.Lock()

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    def grants_for(self, identity: Identity, chain: Sequence[Securable]) -> list[Grant]:
        """Every grant that applies to `identity` on the securables of `chain`: its own, its
        groups', its roles' and the server's default (answered from memory when cached)."""
        ids = (identity.principal_id or 0, *identity.group_ids)
        return self._cached(
            (ids, tuple(chain)),
            lambda: self._grants.grants_on(ids, chain),
            lambda roles: list(roles.grants_on(identity, chain)),
        )

    def grants_of(self, identity: Identity, kinds: Sequence[SecurableType]) -> list[Grant]:
        """Every grant that applies to `identity` on any securable of these types (its own,
        its groups', its roles' and the server's default; answered from memory when cached)."""
        ids = (identity.principal_id or 0, *identity.group_ids)
        return self._cached(
            (ids, tuple((kind, "") for kind in kinds)),
            lambda: self._grants.grants_of(ids, kinds),
            lambda roles: list(roles.grants_of(identity, kinds)),
        )

    def _cached(
        self,
        key: tuple[Any, ...],
        own: Callable[[], list[Grant]],
        of_roles: Callable[[Any], list[Grant]],
    ) -> list[Grant]:
        """The grants under `key` from memory, else read (the principal's and groups', the
        roles', the server's default) and kept."""
        found = self._cache.get(key)
        if found is None:
            found = own()
            if self._roles is not None:
                found += of_roles(self._roles)
            if self._default is not None:
                found.append(_default_grant(self._default))
            with self._lock:
                if len(self._cache) >= _CACHE_LIMIT:
                    self._cache.clear()
                self._cache[key] = found
        return found

    def may(
        self,
        identity: Identity,
        need: Privilege,
        securable: Securable,
        *,
        alias: str | None = None,
        workspace: str | None = None,
    ) -> bool:
        """`workspace`: where an experiment is (default: the request's, where the workspace
        gate found it)."""
        if identity.is_admin:
            return True
        grants = self.grants_for(identity, chain_of(securable, workspace))
        return decisions.allows(grants, need, alias=alias)

    def privileges(self, identity: Identity, securable: Securable) -> frozenset[Privilege]:
        if identity.is_admin:
            return frozenset(Privilege)
        return decisions.effective(self.grants_for(identity, chain_of(securable)))

    # -- granting --------------------------------------------------------------------------

    def _may_grant(self, privilege: Privilege, securable: Securable, *, deny: bool) -> None:
        identity = current_identity()
        require_scope(identity, "manage", "grant or revoke privileges")
        if identity.is_admin:
            return
        held = self.privileges(identity, securable)
        if privilege == Privilege.OWNER and Privilege.OWNER not in held:
            raise PermissionDenied("Only an admin or the owner may hand over ownership")
        if Privilege.MANAGE not in held:
            raise PermissionDenied(f"MANAGE on {decisions.described(securable)} is needed")
        if not deny and privilege not in held:
            raise PermissionDenied(
                f"You cannot grant {privilege.value}: you do not hold it on "
                f"{decisions.described(securable)}"
            )

    def grant(
        self,
        principal: Principal,
        privilege: Privilege,
        securable: Securable,
        *,
        deny: bool = False,
        aliases: Sequence[str] | None = None,
    ) -> Grant:
        if aliases is not None and privilege != Privilege.PROMOTE:
            raise InvalidParameter("Only PROMOTE can be limited to some aliases")
        if aliases is not None and not all(isinstance(a, str) and a for a in aliases):
            raise InvalidParameter("aliases must be a list of alias names")
        self._may_grant(privilege, securable, deny=deny)
        made = self._grants.add_grant(
            NewGrant(
                principal_id=principal.principal_id, privilege=privilege,
                securable_type=securable[0], securable_id=securable[1], deny=deny,
                aliases=None if aliases is None else tuple(aliases),
                created_by=current_identity().name[:MAX_NAME],
            )
        )  # fmt: skip
        self._audit.change(
            "deny" if deny else "grant", securable[0].value, securable[1],
            after={"principal": principal.name, "privilege": privilege.value,
                   "aliases": None if aliases is None else list(aliases)},
        )  # fmt: skip
        return made

    def revoke(
        self, principal: Principal, securable: Securable, privilege: Privilege | None = None
    ) -> int:
        self._may_grant(privilege or Privilege.BROWSE, securable, deny=True)
        count = self._grants.remove_grants(
            principal.principal_id, securable[0], securable[1], privilege
        )
        self._audit.change(
            "revoke", securable[0].value, securable[1],
            before={"principal": principal.name,
                    "privilege": None if privilege is None else privilege.value},
        )  # fmt: skip
        return count

    def list_grants(
        self, *, securable: Securable | None = None, principal: Principal | None = None
    ) -> list[Grant]:
        identity = current_identity()
        if principal is not None and principal.principal_id == identity.principal_id:
            decide(identity, "read", "grant", identity.name, allowed=True, refusal="")
        elif securable is not None:
            decide(identity, "read", "grant", securable[1],
                   allowed=Privilege.MANAGE in self.privileges(identity, securable),
                   refusal=f"MANAGE on {decisions.described(securable)} is needed")  # fmt: skip
        else:
            decide(identity, "read", "grant", "", allowed=identity.is_admin,
                   refusal="Only an admin may list every grant")  # fmt: skip
        return self._grants.list_grants(
            principal_ids=None if principal is None else [principal.principal_id],
            securable=securable,
        )


def _default_grant(privilege: Privilege) -> Grant:
    return Grant(
        grant_id=0, principal_id=0, principal_name="(default)",
        principal_kind=PrincipalKind.GROUP, privilege=privilege,
        securable_type=SecurableType.METASTORE, securable_id="*",
    )  # fmt: skip
