"""SqlRoleStore: MLflow's roles, their permissions and who holds them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from heron.entities.security import Role, RoleAssignment, RolePermission
from heron.errors import AlreadyExists, NotFound
from heron.store.sql.database import Database
from heron.store.sql.security_state import bump_epoch
from heron.store.sql.security_tables import role_assignments, role_permissions, roles

_R = roles.c
_RP = role_permissions.c
_RA = role_assignments.c


def _permission_of(row: Any) -> RolePermission:
    return RolePermission(
        permission_id=int(row.permission_id),
        role_id=int(row.role_id),
        resource_type=row.resource_type,
        resource_pattern=row.resource_pattern,
        permission=row.permission,
    )


def _assignment_of(row: Any) -> RoleAssignment:
    return RoleAssignment(
        assignment_id=int(row.assignment_id),
        role_id=int(row.role_id),
        principal_id=int(row.principal_id),
    )


class SqlRoleStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def _write(self, fn: Any, conflict: str) -> Any:
        def run(conn: Connection) -> Any:
            try:
                with conn.begin_nested():
                    result = fn(conn)
            except IntegrityError:
                raise AlreadyExists(conflict) from None
            bump_epoch(conn)
            return result

        return self._db.write(run)

    def create_role(self, name: str, workspace: str, description: str | None) -> Role:
        stmt = insert(roles).values(name=name, workspace=workspace, description=description)
        role_id = self._write(
            lambda conn: int(conn.execute(stmt).inserted_primary_key[0]),
            f"Role {name!r} already exists in workspace {workspace!r}",
        )
        return self.get_role(role_id)

    def _roles(self, where: Any) -> list[Role]:
        with self._db.read() as conn:
            found = conn.execute(select(roles).where(where).order_by(_R.role_id)).all()
            ids = [r.role_id for r in found]
            perms = conn.execute(
                select(role_permissions).where(_RP.role_id.in_(ids)).order_by(_RP.permission_id)
            ).all()
        by_role: dict[int, list[RolePermission]] = {}
        for row in perms:
            by_role.setdefault(int(row.role_id), []).append(_permission_of(row))
        return [
            Role(
                role_id=int(r.role_id),
                name=r.name,
                workspace=r.workspace,
                description=r.description,
                permissions=tuple(by_role.get(int(r.role_id), ())),
            )
            for r in found
        ]

    def get_role(self, role_id: int) -> Role:
        found = self._roles(_R.role_id == role_id)
        if not found:
            raise NotFound(f"Role with id={role_id} not found")
        return found[0]

    def list_roles(self, workspaces: Sequence[str] | None = None) -> list[Role]:
        return self._roles(_R.workspace.in_(list(workspaces)) if workspaces else _R.role_id >= 0)

    def update_role(self, role_id: int, *, name: str | None, description: str | None) -> Role:
        values = {k: v for k, v in (("name", name), ("description", description)) if v is not None}

        def change(conn: Connection) -> None:
            if (
                conn.execute(update(roles).where(_R.role_id == role_id).values(values)).rowcount
                == 0
            ):
                raise NotFound(f"Role with id={role_id} not found")

        self._write(change, f"Role {name!r} already exists in that workspace")
        return self.get_role(role_id)

    def delete_role(self, role_id: int) -> None:
        def remove(conn: Connection) -> None:
            if conn.execute(delete(roles).where(_R.role_id == role_id)).rowcount == 0:
                raise NotFound(f"Role with id={role_id} not found")

        self._write(remove, "")

    def add_permission(
        self, role_id: int, resource_type: str, pattern: str, permission: str
    ) -> RolePermission:
        self.get_role(role_id)
        stmt = insert(role_permissions).values(
            role_id=role_id, resource_type=resource_type, resource_pattern=pattern,
            permission=permission,
        )  # fmt: skip
        permission_id = self._write(
            lambda conn: int(conn.execute(stmt).inserted_primary_key[0]),
            f"Role {role_id} already has a permission on {resource_type} {pattern!r}",
        )
        return self.get_permission(permission_id)

    def get_permission(self, permission_id: int) -> RolePermission:
        with self._db.read() as conn:
            row = conn.execute(
                select(role_permissions).where(_RP.permission_id == permission_id)
            ).first()
        if row is None:
            raise NotFound(f"Role permission with id={permission_id} not found")
        return _permission_of(row)

    def update_permission(self, permission_id: int, permission: str) -> RolePermission:
        stmt = update(role_permissions).where(_RP.permission_id == permission_id)

        def change(conn: Connection) -> None:
            if conn.execute(stmt.values(permission=permission)).rowcount == 0:
                raise NotFound(f"Role permission with id={permission_id} not found")

        self._write(change, "")
        return self.get_permission(permission_id)

    def remove_permission(self, permission_id: int) -> None:
        stmt = delete(role_permissions).where(_RP.permission_id == permission_id)

        def remove(conn: Connection) -> None:
            if conn.execute(stmt).rowcount == 0:
                raise NotFound(f"Role permission with id={permission_id} not found")

        self._write(remove, "")

    def assign(self, role_id: int, principal_id: int) -> RoleAssignment:
        self.get_role(role_id)
        stmt = insert(role_assignments).values(role_id=role_id, principal_id=principal_id)
        self._write(lambda conn: conn.execute(stmt), f"The user already holds role {role_id}")
        return self.assignments(role_id=role_id, principal_id=principal_id)[0]

    def unassign(self, role_id: int, principal_id: int) -> None:
        stmt = delete(role_assignments).where(
            (_RA.role_id == role_id) & (_RA.principal_id == principal_id)
        )

        def remove(conn: Connection) -> None:
            if conn.execute(stmt).rowcount == 0:
                raise NotFound(f"The user does not hold role {role_id}")

        self._write(remove, "")

    def assignments(
        self, *, role_id: int | None = None, principal_id: int | None = None
    ) -> list[RoleAssignment]:
        stmt = select(role_assignments).order_by(_RA.assignment_id)
        if role_id is not None:
            stmt = stmt.where(_RA.role_id == role_id)
        if principal_id is not None:
            stmt = stmt.where(_RA.principal_id == principal_id)
        with self._db.read() as conn:
            return [_assignment_of(row) for row in conn.execute(stmt)]
