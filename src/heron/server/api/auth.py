"""MLflow's basic-auth REST API (`mlflow server --app-name basic-auth`), so its admin tooling
(`mlflow.server.get_app_client("basic-auth", ...)`) works against Heron: users, per-resource
permissions and roles, under /api/ and /ajax-api/ as MLflow serves them."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.entities.security import Principal
from heron.entities.workspace import DEFAULT_WORKSPACE
from heron.errors import InvalidParameter
from heron.server.api import auth_roles
from heron.server.api.auth_roles import role_json
from heron.server.routing import MLFLOW_V2, MLFLOW_V3, under_prefixes
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.security.bundle import SecurityServices
from heron.services.security.decisions import placed
from heron.services.security.mlflow_permissions import as_mlflow, check_permission
from heron.web.routes import PolicyRoute

_update_user = requires("update", "principal", "username")


def user_json(user: Principal) -> Json:
    return {"id": user.principal_id, "username": user.name, "is_admin": user.is_admin}


def _bool(f: Fields, name: str) -> bool:
    value = f.boolean(name)
    if value is None:
        raise InvalidParameter(f"Missing value for required parameter '{name}'")
    return value


def user_routes(api: Endpoints, security: SecurityServices) -> list[PolicyRoute]:
    users = security.principals

    def create_user(f: Fields) -> Json:
        made = users.create_user(f.required_string("username"), f.required_string("password"))
        return {"user": user_json(made)}

    def get_user(f: Fields) -> Json:
        return {"user": user_json(users.get_user(f.required_string("username")))}

    def list_users(f: Fields) -> Json:
        roles = security.mlflow.roles
        return {
            "users": [
                {**user_json(u), "roles": [role_json(roles.get_role(a.role_id)) for a in
                                           roles.assignments(principal_id=u.principal_id)]}
                for u in users.list_users()
            ]
        }  # fmt: skip

    def current_user(f: Fields) -> Json:
        return {"user": user_json(users.current_user()), "is_basic_auth": True}

    def update_password(f: Fields) -> Json:
        users.update_password(
            f.required_string("username"),
            f.required_string("password"),
            f.string("current_password"),
        )
        return {}

    def update_admin(f: Fields) -> Json:
        users.set_admin(f.required_string("username"), _bool(f, "is_admin"))
        return {}

    def delete_user(f: Fields) -> Json:
        users.delete_user(f.required_string("username"))
        return {}

    return [
        api.post("/users/create", create_user, requires("create", "principal")),
        api.get("/users/get", get_user, requires("read", "principal", "username")),
        api.get("/users/list", list_users, requires("read", "principal")),
        api.get("/users/current", current_user, requires("read", "principal")),
        api.route("PATCH", "/users/update-password", update_password, _update_user),
        api.route("PATCH", "/users/update-admin", update_admin, _update_user),
        api.route(
            "DELETE", "/users/delete", delete_user, requires("delete", "principal", "username")
        ),
    ]


def permission_routes(api: Endpoints, security: SecurityServices) -> list[PolicyRoute]:
    perms = security.mlflow

    def rows(username: str) -> Json:
        user, grants = perms.direct(username)
        by_securable: dict[tuple[str, str, str], list[object]] = {}
        for g in grants:
            workspace, pattern = placed(g.securable_type, g.securable_id)  # kept per workspace
            by_securable.setdefault(
                (workspace or DEFAULT_WORKSPACE, g.securable_type.value, pattern), []
            ).append(g)
        direct = [
            {"role_id": 0, "role_name": f"__user_{user.principal_id}__", "workspace": workspace,
             "resource_type": kind, "resource_pattern": pattern,
             "permission": as_mlflow(held)}  # type: ignore[arg-type]
            for (workspace, kind, pattern), held in by_securable.items()
        ]  # fmt: skip
        for a in perms.roles.assignments(principal_id=user.principal_id):
            role = perms.roles.get_role(a.role_id)
            direct += [
                {"role_id": role.role_id, "role_name": role.name, "workspace": role.workspace,
                 "resource_type": p.resource_type, "resource_pattern": p.resource_pattern,
                 "permission": p.permission}
                for p in role.permissions
            ]  # fmt: skip
        return {"is_admin": user.is_admin, "permissions": direct}

    def current_permissions(f: Fields) -> Json:
        return rows(security.principals.current_user().name)

    def list_permissions(f: Fields) -> Json:
        return rows(f.required_string("username"))

    def grant(f: Fields) -> Json:
        perms.grant(*_target(f), check_permission(f.required_string("permission")))
        return {}

    def revoke(f: Fields) -> Json:
        perms.revoke(*_target(f))
        return {}

    def get(f: Fields) -> Json:
        permission = perms.get(*_target(f))
        return {"allowed": permission in ("USE", "EDIT", "MANAGE"), "permission": permission}

    return [
        api.get("/users/current/permissions", current_permissions, requires("read", "grant")),
        api.get("/users/permissions/list", list_permissions, requires("read", "grant")),
        api.post("/users/permissions/grant", grant, requires("create", "grant")),
        api.post("/users/permissions/revoke", revoke, requires("delete", "grant")),
        api.get("/users/permissions/get", get, requires("read", "grant")),
    ]


def _target(f: Fields) -> tuple[str, str, str]:
    return (
        f.required_string("username"),
        f.required_string("resource_type"),
        f.required_string("resource_id"),
    )


def routes(api: Endpoints, security: SecurityServices) -> list[BaseRoute]:
    v2 = user_routes(api, security)
    v3 = [*permission_routes(api, security), *auth_roles.routes(api, security)]
    return [*under_prefixes(MLFLOW_V2, v2), *under_prefixes(MLFLOW_V3, v3)]
