"""Users, groups and service principals: who exists, their passwords and admin flags."""

from __future__ import annotations

from heron.entities.security import Principal, PrincipalKind
from heron.errors import BadRequest, InvalidParameter, NotFound
from heron.services.access import Identity, current_identity, decide
from heron.services.security import passwords
from heron.services.security.audit import AuditTrail
from heron.services.security.scopes import require_scope
from heron.store.security import GroupStore, PrincipalStore

MAX_NAME = 256


def check_name(what: str, name: object) -> str:
    """A principal's name: 1-256 characters, no control characters, not only spaces."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter(f"{what} cannot be empty")
    if len(name) > MAX_NAME:
        raise InvalidParameter(f"{what} must be at most {MAX_NAME} characters long")
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise InvalidParameter(f"{what} must not contain control characters")
    return name


def require_admin(identity: Identity, doing: str) -> None:
    decide(identity, "update", "principal", "", allowed=identity.is_admin,
           refusal=f"Only an admin may {doing}")  # fmt: skip
    require_scope(identity, "manage", doing)


def require_self_or_admin(identity: Identity, name: str, doing: str) -> None:
    """A user may read their own user and permissions; an admin anyone's."""
    if identity.name == name and identity.authenticated:
        decide(identity, "read", "principal", name, allowed=True, refusal="")
        return
    require_admin(identity, doing)


class PrincipalService:
    def __init__(self, principals: PrincipalStore, groups: GroupStore, audit: AuditTrail) -> None:
        self._principals = principals
        self._groups = groups
        self._audit = audit

    # -- users -----------------------------------------------------------------------------

    def create_user(self, name: str, password: str, *, is_admin: bool = False) -> Principal:
        require_admin(current_identity(), "create users")
        check_name("Username", name)
        created = self._principals.create_principal(
            PrincipalKind.USER, name, password_hash=passwords.hash_password(password),
            is_admin=is_admin,
        )  # fmt: skip
        self._audit.change("create_user", "user", name, after={"is_admin": is_admin})
        return created

    def bootstrap_admin(self, name: str, password: str) -> Principal | None:
        """The first admin, from `heron admin create-user --admin` or HERON_ADMIN_USERNAME
        and HERON_ADMIN_PASSWORD at first start: made only while no admin exists."""
        if self._principals.count_admins() > 0:
            return None
        check_name("Username", name)
        try:
            existing = self._principals.get_principal(PrincipalKind.USER, name)
        except NotFound:
            created = self._principals.create_principal(
                PrincipalKind.USER, name, password_hash=passwords.hash_password(password),
                is_admin=True,
            )  # fmt: skip
        else:
            self._principals.update_principal(
                existing.principal_id,
                password_hash=passwords.hash_password(password),
                is_admin=True,
            )
            created = self._principals.get_principal_by_id(existing.principal_id)
        self._audit.change("bootstrap_admin", "user", name, after={"is_admin": True})
        return created

    def has_admin(self) -> bool:
        return self._principals.count_admins() > 0

    def get_user(self, name: str) -> Principal:
        require_self_or_admin(current_identity(), name, "read other users")
        return self._principals.get_principal(PrincipalKind.USER, name)

    def current_user(self) -> Principal:
        identity = current_identity()
        if identity.principal_id is None:
            raise NotFound("The caller is not a user of this server")
        decide(identity, "read", "principal", identity.name, allowed=True, refusal="")
        return self._principals.get_principal_by_id(identity.principal_id)

    def list_users(self) -> list[Principal]:
        require_admin(current_identity(), "list users")
        return self._principals.list_principals(PrincipalKind.USER)

    def update_password(self, name: str, password: str, current_password: str | None) -> None:
        """An admin sets anyone's password; a user changes their own with the current one."""
        identity = current_identity()
        user = self._principals.credentials(name)
        if identity.name == name and user is not None:
            if not current_password:
                raise InvalidParameter(
                    "Current password is required when changing your own password."
                )
            if not user.password_hash or not passwords.verify_password(
                user.password_hash, current_password
            ):
                raise InvalidParameter("Current password does not match.")
        else:
            require_admin(identity, "change another user's password")
        if user is None:
            raise NotFound(f"User {name!r} does not exist")
        self._principals.update_principal(
            user.principal.principal_id, password_hash=passwords.hash_password(password)
        )
        self._audit.change("update_password", "user", name)

    def set_admin(self, name: str, is_admin: bool) -> None:
        require_admin(current_identity(), "change who is an admin")
        user = self._principals.get_principal(PrincipalKind.USER, name)
        if user.is_admin and not is_admin and self._principals.count_admins() <= 1:
            raise BadRequest("The last admin cannot stop being an admin")
        self._principals.update_principal(user.principal_id, is_admin=is_admin)
        self._audit.change(
            "update_admin", "user", name, before={"is_admin": user.is_admin},
            after={"is_admin": is_admin},
        )  # fmt: skip

    def delete_user(self, name: str) -> None:
        identity = current_identity()
        require_admin(identity, "delete users")
        if identity.name == name:
            raise BadRequest(
                "Users cannot delete their own account. Ask another admin to delete this user."
            )
        user = self._principals.get_principal(PrincipalKind.USER, name)
        self._principals.delete_principal(user.principal_id)
        self._audit.change("delete_user", "user", name, before={"is_admin": user.is_admin})

    # -- groups and service principals -----------------------------------------------------

    def create_principal(self, kind: PrincipalKind, name: str) -> Principal:
        """A group or a service principal (which signs in with tokens only)."""
        require_admin(current_identity(), f"create a {kind.value.replace('_', ' ')}")
        if kind == PrincipalKind.USER:
            raise InvalidParameter("Create users with a password (create_user)")
        check_name("Name", name)
        created = self._principals.create_principal(kind, name)
        self._audit.change(f"create_{kind.value}", kind.value, name)
        return created

    def get_principal(self, kind: PrincipalKind, name: str) -> Principal:
        return self._principals.get_principal(kind, name)

    def list_principals(self, kind: PrincipalKind) -> list[Principal]:
        require_admin(current_identity(), f"list every {kind.value.replace('_', ' ')}")
        return self._principals.list_principals(kind)

    def delete_principal(self, kind: PrincipalKind, name: str) -> None:
        if kind == PrincipalKind.USER:
            self.delete_user(name)
            return
        require_admin(current_identity(), f"delete a {kind.value.replace('_', ' ')}")
        found = self._principals.get_principal(kind, name)
        self._principals.delete_principal(found.principal_id)
        self._audit.change(f"delete_{kind.value}", kind.value, name)

    def set_membership(self, group: str, member: Principal, *, member_of: bool) -> None:
        require_admin(current_identity(), "change group members")
        found = self._principals.get_principal(PrincipalKind.GROUP, group)
        if member.kind == PrincipalKind.GROUP:
            raise InvalidParameter("Groups hold users and service principals, not groups")
        if member_of:
            self._groups.add_member(found.principal_id, member.principal_id)
        else:
            self._groups.remove_member(found.principal_id, member.principal_id)
        action = "add_group_member" if member_of else "remove_group_member"
        self._audit.change(action, "group", group, after={"member": member.name})

    def members(self, group: str) -> list[Principal]:
        require_admin(current_identity(), "list group members")
        found = self._principals.get_principal(PrincipalKind.GROUP, group)
        return self._groups.members(found.principal_id)

    def groups_of(self, principal_id: int) -> list[Principal]:
        return self._groups.groups_of(principal_id)
