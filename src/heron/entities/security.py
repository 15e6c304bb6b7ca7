"""Security entities: principals, access tokens, grants, MLflow's roles, the audit log."""

from __future__ import annotations

import enum
import functools
import hashlib
import json
from dataclasses import dataclass, field


class PrincipalKind(enum.StrEnum):
    USER = "user"
    SERVICE_PRINCIPAL = "service_principal"
    GROUP = "group"


class Privilege(enum.StrEnum):
    """Unity Catalog style privileges; each implies those listed in `IMPLIED` (docs/security.md
    maps them to MLflow's permissions and Unity Catalog OSS's names)."""

    BROWSE = "BROWSE"  # see that the object exists (name, description)
    READ = "READ"  # read the object, its runs, artifacts, traces, versions
    ANNOTATE = "ANNOTATE"  # add feedback, expectations and comments, nothing else
    EXECUTE = "EXECUTE"  # query a serving endpoint
    USE = "USE"  # MLflow's USE: read, annotate and execute
    EDIT = "EDIT"  # log to runs, create versions, change tags and descriptions
    PROMOTE = "PROMOTE"  # move aliases and stages (optionally only some aliases)
    MANAGE = "MANAGE"  # everything, and grant privileges on the object
    OWNER = "OWNER"  # ownership: MANAGE that only an admin or the owner can transfer


IMPLIED: dict[Privilege, frozenset[Privilege]] = {
    Privilege.BROWSE: frozenset(),
    Privilege.READ: frozenset({Privilege.BROWSE}),
    Privilege.ANNOTATE: frozenset({Privilege.READ, Privilege.BROWSE}),
    Privilege.EXECUTE: frozenset({Privilege.BROWSE}),
    Privilege.USE: frozenset({Privilege.READ, Privilege.ANNOTATE, Privilege.EXECUTE}),
    Privilege.EDIT: frozenset({Privilege.READ, Privilege.ANNOTATE, Privilege.BROWSE}),
    Privilege.PROMOTE: frozenset({Privilege.READ, Privilege.BROWSE}),
    Privilege.MANAGE: frozenset(set(Privilege) - {Privilege.MANAGE, Privilege.OWNER}),
    Privilege.OWNER: frozenset(set(Privilege) - {Privilege.OWNER}),
}


@functools.cache  # every permission check asks it, twice or more
def closure(privilege: Privilege) -> frozenset[Privilege]:
    """The privilege and everything it implies."""
    seen = {privilege}
    todo = [privilege]
    while todo:
        for implied in IMPLIED[todo.pop()]:
            if implied not in seen:
                seen.add(implied)
                todo.append(implied)
    return frozenset(seen)


class SecurableType(enum.StrEnum):
    """What a grant can name. A catalog holds schemas, a schema holds registered models and
    prompts (as `catalog.schema.model`); experiments, serving endpoints and workspaces stand
    alone. `*` as a securable id means every object of the type."""

    METASTORE = "metastore"  # the whole server: a grant here applies to everything
    WORKSPACE = "workspace"
    CATALOG = "catalog"
    SCHEMA = "schema"
    REGISTERED_MODEL = "registered_model"
    PROMPT = "prompt"
    EXPERIMENT = "experiment"
    SERVING_ENDPOINT = "serving_endpoint"


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    principal_id: int
    kind: PrincipalKind
    name: str
    is_admin: bool = False
    disabled: bool = False
    has_password: bool = False
    created_time: int = 0  # ms since epoch
    display_name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """What a password check needs: never leaves the security services."""

    principal: Principal
    password_hash: str | None
    failed_logins: int
    locked_until: int | None  # ms since epoch


@dataclass(frozen=True, slots=True, kw_only=True)
class AccessToken:
    """A personal access token or a service principal's token. Only its hash is stored; the
    secret is shown once, when it is made."""

    token_id: str  # the public part of the token, after its prefix
    principal_id: int
    name: str
    scopes: tuple[str, ...]
    created_time: int
    expires_time: int | None = None
    revoked_time: int | None = None
    last_used_time: int | None = None
    secret_hash: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Grant:
    grant_id: int
    principal_id: int
    principal_name: str
    principal_kind: PrincipalKind
    privilege: Privilege
    securable_type: SecurableType
    securable_id: str  # an id or name, or "*"
    deny: bool = False
    aliases: tuple[str, ...] | None = None  # PROMOTE limited to these aliases
    created_time: int = 0
    created_by: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RolePermission:
    """MLflow's role permission: `permission` on resources of a type matching a pattern."""

    permission_id: int
    role_id: int
    resource_type: str
    resource_pattern: str
    permission: str  # READ, USE, EDIT, MANAGE, DENY


@dataclass(frozen=True, slots=True, kw_only=True)
class Role:
    role_id: int
    name: str
    workspace: str
    description: str | None = None
    permissions: tuple[RolePermission, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RoleAssignment:
    assignment_id: int
    role_id: int
    principal_id: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """A browser's login, kept on the server; the cookie holds only its random id."""

    principal_id: int
    created_time: int
    expires_time: int
    csrf_token: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEntry:
    seq: int
    time: int  # ms since epoch
    principal: str
    address: str
    request_id: str
    action: str
    object_type: str
    object_id: str
    allowed: bool
    before: str | None = None  # JSON of the fields before a change
    after: str | None = None
    count: int = 1  # denials coalesced into this entry
    prev_hash: str = ""
    hash: str = ""


def audit_hash(prev_hash: str, entry: AuditEntry) -> str:
    """The hash an audit entry carries: SHA-256 over the previous entry's hash and this one's
    fields, so changing, removing or reordering any entry breaks every hash after it."""
    fields = [
        entry.seq, entry.time, entry.principal, entry.address, entry.request_id, entry.action,
        entry.object_type, entry.object_id, entry.allowed, entry.before, entry.after, entry.count,
    ]  # fmt: skip
    text = prev_hash + json.dumps(fields, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()
