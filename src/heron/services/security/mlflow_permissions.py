"""MLflow's permission vocabulary (READ, USE, EDIT, MANAGE, DENY) and roles over Heron's grants.

MLflow's per-user grant of a permission on a resource becomes Heron grants on the same
securable: READ -> READ, USE -> USE, EDIT -> EDIT and PROMOTE, MANAGE -> MANAGE, DENY -> a
DENY of BROWSE (which refuses everything). A role's permissions count as grants to each user
who holds the role. docs/security.md has the whole table."""

from __future__ import annotations

from collections.abc import Sequence

from heron.entities.security import Grant, Principal, PrincipalKind, Privilege, SecurableType
from heron.errors import InvalidParameter
from heron.services.access import Identity, current_identity
from heron.services.security import decisions
from heron.services.security.audit import AuditTrail
from heron.services.security.decisions import Securable
from heron.services.security.grant_service import (
    MAX_SECURABLE_ID,
    GrantService,
    chain_of,
    in_request_workspace,
)
from heron.services.security.principals import check_name, require_admin, require_self_or_admin
from heron.store.security import GroupStore, PrincipalStore, RoleStore

PERMISSIONS = ("READ", "USE", "EDIT", "MANAGE", "DENY")
MAX_WORKSPACE = 256  # roles.workspace
AS_GRANTS: dict[str, tuple[Privilege, ...]] = {
    "READ": (Privilege.READ,),
    "USE": (Privilege.USE,),
    "EDIT": (Privilege.EDIT, Privilege.PROMOTE),
    "MANAGE": (Privilege.MANAGE,),
    "DENY": (Privilege.BROWSE,),
}
RESOURCE_TYPES: dict[str, SecurableType] = {
    "experiment": SecurableType.EXPERIMENT,
    "registered_model": SecurableType.REGISTERED_MODEL,
    "prompt": SecurableType.PROMPT,
    "gateway_endpoint": SecurableType.SERVING_ENDPOINT,
    "workspace": SecurableType.WORKSPACE,
}


def check_permission(permission: object) -> str:
    if permission not in PERMISSIONS:
        raise InvalidParameter(
            f"Invalid permission {permission!r}. Valid permissions are: {PERMISSIONS}"
        )
    return str(permission)


def securable_of(resource_type: object, resource_id: object) -> Securable:
    kind = RESOURCE_TYPES.get(str(resource_type))
    if kind is None:
        raise InvalidParameter(
            f"Invalid resource type {resource_type!r}. Heron supports: "
            f"{tuple(sorted(RESOURCE_TYPES))}"
        )
    if not isinstance(resource_id, str) or not 0 < len(resource_id) <= MAX_SECURABLE_ID:
        raise InvalidParameter(
            f"resource_id must be an id or name of 1-{MAX_SECURABLE_ID} characters, or *"
        )
    return in_request_workspace(kind, resource_id)


def permission_name(privileges: frozenset[Privilege], denied: bool) -> str:
    """The MLflow permission a set of effective privileges amounts to."""
    if denied:
        return "DENY"
    for privilege, name in (
        (Privilege.MANAGE, "MANAGE"), (Privilege.EDIT, "EDIT"), (Privilege.USE, "USE"),
        (Privilege.READ, "READ"),
    ):  # fmt: skip
        if privilege in privileges:
            return name
    return "NO_PERMISSIONS"


def as_mlflow(grants: Sequence[Grant]) -> str:
    """MLflow's name for the grants held directly on one securable."""
    denied = any(g.deny and g.privilege == Privilege.BROWSE for g in grants)
    return permission_name(frozenset(g.privilege for g in grants if not g.deny), denied)


class RoleGrants:
    """MLflow's roles as grants: what `GrantService` adds for the roles a user holds."""

    def __init__(self, roles: RoleStore) -> None:
        self._roles = roles

    def grants_on(self, identity: Identity, chain: Sequence[Securable]) -> list[Grant]:
        return [g for g in self._grants(identity) if (g.securable_type, g.securable_id) in chain]

    def grants_of(self, identity: Identity, kinds: Sequence[SecurableType]) -> list[Grant]:
        return [g for g in self._grants(identity) if g.securable_type in kinds]

    def _grants(self, identity: Identity) -> list[Grant]:
        """Every permission of the roles `identity` holds, as grants."""
        if identity.principal_id is None:
            return []
        held = self._roles.assignments(principal_id=identity.principal_id)
        found: list[Grant] = []
        for assignment in held:
            role = self._roles.get_role(assignment.role_id)
            for rp in role.permissions:
                kind = RESOURCE_TYPES.get(rp.resource_type)
                if kind is None:
                    continue
                key = rp.resource_pattern
                if kind in decisions.MODEL_TYPES:  # the role's workspace's models
                    key = decisions.model_key(key, role.workspace)
                elif kind == SecurableType.EXPERIMENT and key == "*":  # and experiments
                    key = decisions.every_key(role.workspace)
                found += [
                    Grant(
                        grant_id=0, principal_id=identity.principal_id,
                        principal_name=identity.name, principal_kind=PrincipalKind.USER,
                        privilege=p, securable_type=kind, securable_id=key,
                        deny=rp.permission == "DENY",
                    )
                    for p in AS_GRANTS[rp.permission]
                ]  # fmt: skip
        return found


class MlflowPermissions:
    """MLflow's basic-auth permission calls: grant, revoke, get and list, and roles."""

    def __init__(
        self,
        principals: PrincipalStore,
        groups: GroupStore,
        grants: GrantService,
        roles: RoleStore,
        audit: AuditTrail,
    ) -> None:
        self._principals = principals
        self._groups = groups
        self._grants = grants
        self.roles = roles
        self.audit = audit

    def user(self, username: str) -> Principal:
        return self._principals.get_principal(PrincipalKind.USER, username)

    def grant(self, username: str, resource_type: str, resource_id: str, permission: str) -> None:
        user, securable = self.user(username), securable_of(resource_type, resource_id)
        permission = check_permission(permission)
        self._grants.revoke(user, securable)
        for privilege in AS_GRANTS[permission]:
            self._grants.grant(user, privilege, securable, deny=permission == "DENY")

    def revoke(self, username: str, resource_type: str, resource_id: str) -> None:
        self._grants.revoke(self.user(username), securable_of(resource_type, resource_id))

    def get(self, username: str, resource_type: str, resource_id: str) -> str:
        user, securable = self.user(username), securable_of(resource_type, resource_id)
        require_self_or_admin(current_identity(), username, "read another user's permissions")
        identity = Identity(
            name=user.name, authenticated=True, principal_id=user.principal_id,
            is_admin=user.is_admin,
            group_ids=tuple(g.principal_id for g in self._groups.groups_of(user.principal_id)),
        )  # fmt: skip
        if identity.is_admin:
            return "MANAGE"
        held = self._grants.grants_for(identity, chain_of(securable))
        denied = not decisions.allows(held, Privilege.BROWSE) and any(g.deny for g in held)
        return permission_name(decisions.effective(held), denied)

    def direct(self, username: str) -> tuple[Principal, list[Grant]]:
        user = self.user(username)
        require_self_or_admin(current_identity(), username, "list another user's permissions")
        return user, self._grants.list_grants(principal=user)

    def require_admin(self) -> None:
        require_admin(current_identity(), "manage roles")

    def check_role_name(self, name: object) -> str:
        self.require_admin()
        return check_name("Role name", name)

    def check_workspace(self, workspace: str) -> str:
        """A role's workspace: MLflow's message when it is empty, and at most MAX_WORKSPACE
        characters (a name, not checked against the workspaces table, as MLflow does not)."""
        if not workspace.strip():
            raise InvalidParameter("Workspace cannot be empty.")
        if len(workspace) > MAX_WORKSPACE:
            raise InvalidParameter(
                f"Workspace is {len(workspace)} characters long; the limit is {MAX_WORKSPACE}"
            )
        return workspace
