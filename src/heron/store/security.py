"""The security store ports: principals and groups, tokens and sessions, grants, roles, audit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from heron.entities.security import (
    AccessToken,
    AuditEntry,
    Credentials,
    Grant,
    Principal,
    PrincipalKind,
    Privilege,
    Role,
    RoleAssignment,
    RolePermission,
    SecurableType,
    Session,
)


class PrincipalStore(Protocol):
    """Users, service principals and groups. Every change here bumps the security epoch."""

    def create_principal(
        self,
        kind: PrincipalKind,
        name: str,
        *,
        password_hash: str | None = None,
        is_admin: bool = False,
        display_name: str | None = None,
    ) -> Principal: ...  # raises AlreadyExists
    def get_principal(self, kind: PrincipalKind, name: str) -> Principal: ...  # raises NotFound
    def get_principal_by_id(self, principal_id: int) -> Principal: ...  # raises NotFound
    def list_principals(self, kind: PrincipalKind) -> list[Principal]: ...
    def credentials(self, name: str) -> Credentials | None: ...  # a user's, for a login
    def update_principal(
        self,
        principal_id: int,
        *,
        password_hash: str | None = None,
        is_admin: bool | None = None,
        disabled: bool | None = None,
    ) -> None: ...
    def record_login(
        self, principal_id: int, *, failed_logins: int, locked_until: int | None
    ) -> None:
        """Saves the outcome of a password check (no epoch bump: nothing was granted)."""
        ...

    def delete_principal(self, principal_id: int) -> None: ...
    def count_admins(self) -> int: ...


class GroupStore(Protocol):
    def add_member(self, group_id: int, member_id: int, *, source: str = "admin") -> None: ...
    def remove_member(self, group_id: int, member_id: int) -> None: ...
    def members(self, group_id: int) -> list[Principal]: ...
    def groups_of(self, member_id: int) -> list[Principal]: ...
    def set_idp_groups(self, member_id: int, group_ids: Sequence[int]) -> None:
        """Replaces the memberships that came from the identity provider's claims."""
        ...


class TokenStore(Protocol):
    def create_token(self, token: AccessToken) -> None: ...
    def get_token(self, token_id: str) -> AccessToken | None: ...
    def list_tokens(self, principal_id: int) -> list[AccessToken]: ...
    def revoke_token(self, token_id: str, revoked_time: int) -> None: ...  # raises NotFound
    def expire_token(self, token_id: str, expires_time: int) -> None: ...
    def touch_token(self, token_id: str, last_used_time: int) -> None: ...


class SessionStore(Protocol):
    def create_session(self, session_hash: str, session: Session) -> None: ...
    def get_session(self, session_hash: str) -> Session | None: ...
    def delete_session(self, session_hash: str) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class NewGrant:
    principal_id: int
    privilege: Privilege
    securable_type: SecurableType
    securable_id: str
    deny: bool = False
    aliases: tuple[str, ...] | None = None
    created_by: str = ""


class GrantStore(Protocol):
    def add_grant(self, grant: NewGrant) -> Grant: ...  # an existing one is replaced
    def remove_grants(
        self,
        principal_id: int,
        securable_type: SecurableType,
        securable_id: str,
        privilege: Privilege | None = None,
    ) -> int: ...  # how many went
    def list_grants(
        self,
        *,
        principal_ids: Sequence[int] | None = None,
        securable: tuple[SecurableType, str] | None = None,
    ) -> list[Grant]: ...
    def grants_on(
        self, principal_ids: Sequence[int], securables: Sequence[tuple[SecurableType, str]]
    ) -> list[Grant]:
        """Every grant to these principals on any of these securables (one indexed query)."""
        ...

    def grants_of(
        self, principal_ids: Sequence[int], securable_types: Sequence[SecurableType]
    ) -> list[Grant]:
        """Every grant to these principals on securables of these types (what a search of
        one type may show them)."""
        ...

    def move_grants(
        self, securable_types: Sequence[SecurableType], securable_id: str, new_id: str
    ) -> None:
        """The grants on a renamed object follow its new name."""
        ...

    def drop_grants(self, securable_types: Sequence[SecurableType], securable_id: str) -> None:
        """Removes every grant on an object that is gone for good."""
        ...

    def move_prefixed_grants(
        self, securable_types: Sequence[SecurableType], prefix: str, new_prefix: str
    ) -> None:
        """The grants on every object whose id starts with `prefix` follow it to the same id
        under `new_prefix` (a workspace's models moved to another); what was granted on those
        new ids before gives way."""
        ...

    def drop_prefixed_grants(self, securable_types: Sequence[SecurableType], prefix: str) -> None:
        """Removes every grant on the objects whose id starts with `prefix` (non-empty)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetOwners:
    experiment_ids: tuple[str, ...]
    created_by: str | None
    workspaces: tuple[str, ...] = ()  # each experiment's, in the order of experiment_ids


class OwnerStore(Protocol):
    """Where the objects that are not securables themselves belong: a run, and an artifact
    file, to their experiment; an evaluation dataset to its experiments and creator; and
    whether a registered model holds a prompt. Each answer is one indexed read."""

    def experiment_of_run(self, run_id: str) -> str | None: ...
    def experiment_of_location(self, uri: str) -> str | None:
        """The experiment whose artifact location holds `uri` (a file's full URI)."""
        ...

    def dataset_owners(self, dataset_id: str) -> DatasetOwners | None: ...
    def is_prompt(self, name: str) -> bool:
        """Whether model `name` of the request's workspace holds a prompt."""
        ...


class RoleStore(Protocol):
    def create_role(self, name: str, workspace: str, description: str | None) -> Role: ...
    def get_role(self, role_id: int) -> Role: ...  # raises NotFound
    def list_roles(self, workspaces: Sequence[str] | None = None) -> list[Role]: ...
    def update_role(self, role_id: int, *, name: str | None, description: str | None) -> Role: ...
    def delete_role(self, role_id: int) -> None: ...
    def add_permission(
        self, role_id: int, resource_type: str, pattern: str, permission: str
    ) -> RolePermission: ...
    def get_permission(self, permission_id: int) -> RolePermission: ...  # raises NotFound
    def update_permission(self, permission_id: int, permission: str) -> RolePermission: ...
    def remove_permission(self, permission_id: int) -> None: ...
    def assign(self, role_id: int, principal_id: int) -> RoleAssignment: ...
    def unassign(self, role_id: int, principal_id: int) -> None: ...
    def assignments(
        self, *, role_id: int | None = None, principal_id: int | None = None
    ) -> list[RoleAssignment]: ...


class SecurityStateStore(Protocol):
    def epoch(self) -> int:
        """The counter every change to who may do what bumps (one primary-key read)."""
        ...

    def secret(self, name: str) -> bytes:
        """A random 32-byte key kept in the database (made on first use), shared by every
        server process: the key tokens and sessions are hashed with."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditQuery:
    principal: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    allowed: bool | None = None
    since: int | None = None  # ms since epoch
    after_seq: int = 0
    max_results: int = 100


class AuditStore(Protocol):
    def append(self, entries: Sequence[AuditEntry]) -> list[AuditEntry]:
        """Adds entries at the end of the chain (their seq, prev_hash and hash are set here)."""
        ...

    def entries(self, query: AuditQuery) -> list[AuditEntry]: ...  # oldest first
    def head(self) -> tuple[int, str]: ...  # the last entry's seq and hash


class SecurityStores(Protocol):
    """The security stores together, as `open_sql_stores(...).security` holds them."""

    @property
    def principals(self) -> PrincipalStore: ...
    @property
    def groups(self) -> GroupStore: ...
    @property
    def tokens(self) -> TokenStore: ...
    @property
    def sessions(self) -> SessionStore: ...
    @property
    def grants(self) -> GrantStore: ...
    @property
    def roles(self) -> RoleStore: ...
    @property
    def state(self) -> SecurityStateStore: ...
    @property
    def audit(self) -> AuditStore: ...
    @property
    def owners(self) -> OwnerStore: ...
