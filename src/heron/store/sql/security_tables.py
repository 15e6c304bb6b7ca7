"""The security schema (migration 0010): principals, tokens, grants, roles, sessions, audit."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from heron.store.sql.tables import metadata

MAX_NAME = 256  # user, group, service principal, token and role names
MAX_SECURABLE_ID = 512

principals = Table(
    "principals",
    metadata,
    Column("principal_id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("name", String(MAX_NAME), nullable=False),
    Column("display_name", String(MAX_NAME), nullable=True),
    Column("is_admin", Boolean, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("password_hash", Text, nullable=True),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", BigInteger, nullable=True),
    Column("created_time", BigInteger, nullable=False),
    UniqueConstraint("kind", "name", name="uq_principals_kind_name"),
)

group_members = Table(
    "group_members",
    metadata,
    Column(
        "group_id",
        Integer,
        ForeignKey("principals.principal_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column(
        "member_id",
        Integer,
        ForeignKey("principals.principal_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("source", String(16), nullable=False),  # "admin", or "idp" (from login claims)
    PrimaryKeyConstraint("group_id", "member_id", name="pk_group_members"),
    Index("ix_group_members_member", "member_id"),
)

access_tokens = Table(
    "access_tokens",
    metadata,
    Column("token_id", String(32), primary_key=True),
    Column(
        "principal_id",
        Integer,
        ForeignKey("principals.principal_id", ondelete="CASCADE"),
        nullable=False,
    ),
    # Text: sealed with field encryption on (0028); users' names are at most MAX_NAME.
    Column("name", Text, nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", String(MAX_NAME), nullable=False),  # space-separated
    Column("created_time", BigInteger, nullable=False),
    Column("expires_time", BigInteger, nullable=True),
    Column("revoked_time", BigInteger, nullable=True),
    Column("last_used_time", BigInteger, nullable=True),
    Index("ix_access_tokens_principal", "principal_id"),
)

grants = Table(
    "grants",
    metadata,
    Column("grant_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "principal_id",
        Integer,
        ForeignKey("principals.principal_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("privilege", String(16), nullable=False),
    Column("securable_type", String(32), nullable=False),
    Column("securable_id", String(MAX_SECURABLE_ID), nullable=False),
    Column("deny", Boolean, nullable=False),
    Column("aliases", Text, nullable=True),  # JSON list: PROMOTE limited to these aliases
    Column("created_time", BigInteger, nullable=False),
    Column("created_by", String(MAX_NAME), nullable=False),
    UniqueConstraint(
        "principal_id",
        "securable_type",
        "securable_id",
        "privilege",
        "deny",
        name="uq_grants_principal_securable",
    ),
    Index("ix_grants_securable", "securable_type", "securable_id"),
)

roles = Table(
    "roles",
    metadata,
    Column("role_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(MAX_NAME), nullable=False),
    Column("workspace", String(MAX_NAME), nullable=False),
    Column("description", Text, nullable=True),
    UniqueConstraint("workspace", "name", name="uq_roles_workspace_name"),
)

role_permissions = Table(
    "role_permissions",
    metadata,
    Column("permission_id", Integer, primary_key=True, autoincrement=True),
    Column("role_id", Integer, ForeignKey("roles.role_id", ondelete="CASCADE"), nullable=False),
    Column("resource_type", String(64), nullable=False),
    Column("resource_pattern", String(MAX_SECURABLE_ID), nullable=False),
    Column("permission", String(16), nullable=False),
    UniqueConstraint(
        "role_id", "resource_type", "resource_pattern", name="uq_role_permissions_resource"
    ),
)

role_assignments = Table(
    "role_assignments",
    metadata,
    Column("assignment_id", Integer, primary_key=True, autoincrement=True),
    Column("role_id", Integer, ForeignKey("roles.role_id", ondelete="CASCADE"), nullable=False),
    Column(
        "principal_id",
        Integer,
        ForeignKey("principals.principal_id", ondelete="CASCADE"),
        nullable=False,
    ),
    UniqueConstraint("role_id", "principal_id", name="uq_role_assignments"),
    Index("ix_role_assignments_principal", "principal_id"),
)

workspaces = Table(
    "workspaces",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("description", Text, nullable=True),
    Column("default_artifact_root", Text, nullable=True),
    Column("created_time", BigInteger, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("session_hash", String(64), primary_key=True),
    Column(
        "principal_id",
        Integer,
        ForeignKey("principals.principal_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("created_time", BigInteger, nullable=False),
    Column("expires_time", BigInteger, nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Index("ix_sessions_principal", "principal_id"),
)

# Named counters and values: "epoch" (bumped by every change to who may do what, so every
# server process drops its caches on its next request), "token_key" (the key tokens are
# hashed with), "audit_head" (the last audit entry's sequence number and hash).
security_state = Table(
    "security_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("number", BigInteger, nullable=False),
    Column("text", Text, nullable=True),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("time", BigInteger, nullable=False),
    Column("principal", String(MAX_NAME), nullable=False),
    Column("address", String(64), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("action", String(128), nullable=False),
    Column("object_type", String(64), nullable=False),
    Column("object_id", Text, nullable=False),
    Column("allowed", Boolean, nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("count", Integer, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_log_time", "time"),
    Index("ix_audit_log_principal", "principal", "seq"),
)
