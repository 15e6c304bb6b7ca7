"""Security: principals (users, service principals, groups), group members, access tokens,
grants, MLflow's roles, workspaces, server-side sessions, the security state counters and the
hash-chained audit log.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 04:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

_PRINCIPAL = "principals.principal_id"


def _principal_fk(name: str) -> sa.Column[int]:
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey(_PRINCIPAL, ondelete="CASCADE"), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "principals",
        sa.Column("principal_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("display_name", sa.String(256), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.BigInteger(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("kind", "name", name="uq_principals_kind_name"),
    )
    op.create_table(
        "group_members",
        _principal_fk("group_id"),
        _principal_fk("member_id"),
        sa.Column("source", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "member_id", name="pk_group_members"),
    )
    op.create_index("ix_group_members_member", "group_members", ["member_id"])
    op.create_table(
        "access_tokens",
        sa.Column("token_id", sa.String(32), primary_key=True),
        _principal_fk("principal_id"),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("scopes", sa.String(256), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("expires_time", sa.BigInteger(), nullable=True),
        sa.Column("revoked_time", sa.BigInteger(), nullable=True),
        sa.Column("last_used_time", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_access_tokens_principal", "access_tokens", ["principal_id"])
    op.create_table(
        "grants",
        sa.Column("grant_id", sa.Integer(), primary_key=True, autoincrement=True),
        _principal_fk("principal_id"),
        sa.Column("privilege", sa.String(16), nullable=False),
        sa.Column("securable_type", sa.String(32), nullable=False),
        sa.Column("securable_id", sa.String(512), nullable=False),
        sa.Column("deny", sa.Boolean(), nullable=False),
        sa.Column("aliases", sa.Text(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
        sa.UniqueConstraint(
            "principal_id", "securable_type", "securable_id", "privilege", "deny",
            name="uq_grants_principal_securable",
        ),
    )  # fmt: skip
    op.create_index("ix_grants_securable", "grants", ["securable_type", "securable_id"])
    _roles()
    op.create_table(
        "workspaces",
        sa.Column("name", sa.String(63), primary_key=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("default_artifact_root", sa.Text(), nullable=True),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "sessions",
        sa.Column("session_hash", sa.String(64), primary_key=True),
        _principal_fk("principal_id"),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("expires_time", sa.BigInteger(), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
    )
    op.create_index("ix_sessions_principal", "sessions", ["principal_id"])
    op.create_table(
        "security_state",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
    )
    _audit_log()


def _roles() -> None:
    op.create_table(
        "roles",
        sa.Column("role_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("workspace", sa.String(256), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.UniqueConstraint("workspace", "name", name="uq_roles_workspace_name"),
    )
    role_fk = sa.ForeignKey("roles.role_id", ondelete="CASCADE")
    op.create_table(
        "role_permissions",
        sa.Column("permission_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("role_id", sa.Integer(), role_fk, nullable=False),
        sa.Column("resource_type", sa.String(64), nullable=False),
        sa.Column("resource_pattern", sa.String(512), nullable=False),
        sa.Column("permission", sa.String(16), nullable=False),
        sa.UniqueConstraint(
            "role_id", "resource_type", "resource_pattern", name="uq_role_permissions_resource"
        ),
    )
    op.create_table(
        "role_assignments",
        sa.Column("assignment_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("role_id", sa.Integer(), sa.ForeignKey("roles.role_id", ondelete="CASCADE"),
                  nullable=False),
        _principal_fk("principal_id"),
        sa.UniqueConstraint("role_id", "principal_id", name="uq_role_assignments"),
    )  # fmt: skip
    op.create_index("ix_role_assignments_principal", "role_assignments", ["principal_id"])


def _audit_log() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("time", sa.BigInteger(), nullable=False),
        sa.Column("principal", sa.String(256), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(128), nullable=False),
        sa.Column("object_type", sa.String(64), nullable=False),
        sa.Column("object_id", sa.Text(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_time", "audit_log", ["time"])
    op.create_index("ix_audit_log_principal", "audit_log", ["principal", "seq"])


def downgrade() -> None:
    for table in (
        "audit_log", "security_state", "sessions", "workspaces", "role_assignments",
        "role_permissions", "roles", "grants", "access_tokens", "group_members", "principals",
    ):  # fmt: skip
        op.drop_table(table)
