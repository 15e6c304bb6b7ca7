"""MLflow's role API (RBAC): roles, their permissions, and who holds them (admins only)."""

from __future__ import annotations

from heron.entities.security import Role, RolePermission
from heron.errors import InvalidParameter
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.security.bundle import SecurityServices
from heron.services.security.mlflow_permissions import check_permission, securable_of
from heron.store import ids
from heron.web.routes import PolicyRoute

_ROLES_READ = requires("read", "grant")  # MLflow's roles hold permissions: grants
_ROLES_WRITE = requires("update", "grant")


def role_json(role: Role) -> Json:
    return {
        "id": role.role_id, "name": role.name, "workspace": role.workspace,
        "description": role.description,
        "permissions": [permission_json(p) for p in role.permissions],
    }  # fmt: skip


def permission_json(p: RolePermission) -> Json:
    return {
        "id": p.permission_id, "role_id": p.role_id, "resource_type": p.resource_type,
        "resource_pattern": p.resource_pattern, "permission": p.permission,
    }  # fmt: skip


def int_field(f: Fields, name: str) -> int:
    """An id sent as a JSON number, or as a string of digits (GET, or MLflow's client)."""
    raw = f.data.get(name)
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) < 19:
        return ids.row_key(name, int(raw))
    value = f.int64(name, required=True)
    assert value is not None  # noqa: S101 - required
    return ids.row_key(name, value)


def routes(api: Endpoints, security: SecurityServices) -> list[PolicyRoute]:
    perms = security.mlflow
    roles = perms.roles
    audit = perms.audit

    def create_role(f: Fields) -> Json:
        name = perms.check_role_name(f.required_string("name"))
        workspace = perms.check_workspace(f.required_string("workspace"))
        role = roles.create_role(name, workspace, f.string("description"))
        audit.change("create_role", "role", str(role.role_id), after={"name": name})
        return {"role": role_json(role)}

    def get_role(f: Fields) -> Json:
        perms.require_admin()
        return {"role": role_json(roles.get_role(int_field(f, "role_id")))}

    def list_roles(f: Fields) -> Json:
        perms.require_admin()
        workspace = f.string("workspace")
        return {
            "roles": [role_json(r) for r in roles.list_roles([workspace] if workspace else None)]
        }

    def update_role(f: Fields) -> Json:
        name, description = f.string("name"), f.string("description")
        if name is None and description is None:
            raise InvalidParameter("At least one of 'name' or 'description' must be provided")
        perms.require_admin()
        if name is not None:
            perms.check_role_name(name)
        role = roles.update_role(int_field(f, "role_id"), name=name, description=description)
        audit.change("update_role", "role", str(role.role_id), after={"name": role.name})
        return {"role": role_json(role)}

    def delete_role(f: Fields) -> Json:
        perms.require_admin()
        role_id = int_field(f, "role_id")
        roles.delete_role(role_id)
        audit.change("delete_role", "role", str(role_id))
        return {}

    def add_permission(f: Fields) -> Json:
        perms.require_admin()
        resource_type = f.required_string("resource_type")
        pattern = f.required_string("resource_pattern")
        securable_of(resource_type, pattern)
        permission = check_permission(f.required_string("permission"))
        made = roles.add_permission(int_field(f, "role_id"), resource_type, pattern, permission)
        audit.change("add_role_permission", "role", str(made.role_id), after=permission_json(made))
        return {"role_permission": permission_json(made)}

    def remove_permission(f: Fields) -> Json:
        perms.require_admin()
        permission_id = int_field(f, "role_permission_id")
        roles.remove_permission(permission_id)
        audit.change("remove_role_permission", "role_permission", str(permission_id))
        return {}

    def list_permissions(f: Fields) -> Json:
        perms.require_admin()
        role = roles.get_role(int_field(f, "role_id"))
        return {"role_permissions": [permission_json(p) for p in role.permissions]}

    def update_permission(f: Fields) -> Json:
        perms.require_admin()
        permission = check_permission(f.required_string("permission"))
        made = roles.update_permission(int_field(f, "role_permission_id"), permission)
        audit.change(
            "update_role_permission", "role", str(made.role_id), after=permission_json(made)
        )
        return {"role_permission": permission_json(made)}

    def assign(f: Fields) -> Json:
        perms.require_admin()
        user = perms.user(f.required_string("username"))
        made = roles.assign(int_field(f, "role_id"), user.principal_id)
        audit.change("assign_role", "role", str(made.role_id), after={"user": user.name})
        return {"assignment": {"id": made.assignment_id, "user_id": made.principal_id,
                               "role_id": made.role_id}}  # fmt: skip

    def unassign(f: Fields) -> Json:
        perms.require_admin()
        user = perms.user(f.required_string("username"))
        role_id = int_field(f, "role_id")
        roles.unassign(role_id, user.principal_id)
        audit.change("unassign_role", "role", str(role_id), before={"user": user.name})
        return {}

    def user_roles(f: Fields) -> Json:
        user, _ = perms.direct(f.required_string("username"))
        held = roles.assignments(principal_id=user.principal_id)
        return {"roles": [role_json(roles.get_role(a.role_id)) for a in held]}

    def role_users(f: Fields) -> Json:
        perms.require_admin()
        held = roles.assignments(role_id=int_field(f, "role_id"))
        return {"assignments": [{"id": a.assignment_id, "user_id": a.principal_id,
                                 "role_id": a.role_id} for a in held]}  # fmt: skip

    return [
        api.post("/roles/create", create_role, _ROLES_WRITE),
        api.get("/roles/get", get_role, _ROLES_READ),
        api.get("/roles/list", list_roles, _ROLES_READ),
        api.route("PATCH", "/roles/update", update_role, _ROLES_WRITE),
        api.route("DELETE", "/roles/delete", delete_role, _ROLES_WRITE),
        api.post("/roles/permissions/add", add_permission, _ROLES_WRITE),
        api.route("DELETE", "/roles/permissions/remove", remove_permission, _ROLES_WRITE),
        api.get("/roles/permissions/list", list_permissions, _ROLES_READ),
        api.route("PATCH", "/roles/permissions/update", update_permission, _ROLES_WRITE),
        api.post("/roles/assign", assign, _ROLES_WRITE),
        api.route("DELETE", "/roles/unassign", unassign, _ROLES_WRITE),
        api.get("/users/roles/list", user_roles, _ROLES_READ),
        api.get("/roles/users/list", role_users, _ROLES_READ),
    ]
