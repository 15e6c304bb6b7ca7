"""Admin pages with --auth: users (create, admin or not, delete), groups and grants, and the
audit log."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities.security import Principal, PrincipalKind, Privilege, SecurableType
from heron.errors import InvalidParameter
from heron.services.access import requires
from heron.services.security.bundle import SecurityServices
from heron.services.security.grant_service import check_privilege, check_securable
from heron.store.security import AuditQuery
from heron.ui.rendering import Form, PageResult, Renderer, field

PAGE = 100


def routes(renderer: Renderer, security: SecurityServices) -> list[BaseRoute]:
    users = security.principals

    def users_page(request: Request) -> PageResult:
        return "admin_users.html", {"users": users.list_users(), "nav": ""}

    def create(request: Request, form: Form) -> str:
        users.create_user(field(form, "username"), field(form, "password"))
        return "/admin/users"

    def set_admin(request: Request, form: Form) -> str:
        users.set_admin(field(form, "username"), field(form, "is_admin") == "true")
        return "/admin/users"

    def delete(request: Request, form: Form) -> str:
        users.delete_user(field(form, "username"))
        return "/admin/users"

    def audit_page(request: Request) -> PageResult:
        q = request.query_params
        after = q.get("after_seq", "0")
        if not (after.isascii() and after.isdigit() and len(after) < 19):
            raise InvalidParameter("after_seq must be an entry number")
        denied = q.get("denied") == "1"
        query = AuditQuery(
            principal=q.get("principal") or None, allowed=False if denied else None,
            after_seq=int(after), max_results=PAGE,
        )  # fmt: skip
        entries = security.audit.entries(query)
        head_seq, head_hash = security.audit.head()
        context = {
            "entries": entries, "principal": q.get("principal", ""), "denied": denied,
            "next_seq": entries[-1].seq if len(entries) == PAGE else None, "nav": "",
            "chain": f"{head_seq} entries; the newest carries hash {head_hash or '-'} "
                     "(`heron audit verify` checks the whole chain)",
        }  # fmt: skip
        return "admin_audit.html", context

    def grants_page(request: Request) -> PageResult:
        groups = [(g, users.members(g.name)) for g in users.list_principals(PrincipalKind.GROUP)]
        context = {
            "groups": groups, "grants": security.grants.list_grants(), "nav": "",
            "privileges": [p.value for p in Privilege],
            "securable_types": [t.value for t in SecurableType],
        }  # fmt: skip
        return "admin_grants.html", context

    def create_group(request: Request, form: Form) -> str:
        users.create_principal(PrincipalKind.GROUP, field(form, "name"))
        return "/admin/grants"

    def add_member(request: Request, form: Form) -> str:
        member = users.get_principal(PrincipalKind.USER, field(form, "member"))
        users.set_membership(field(form, "group"), member, member_of=True)
        return "/admin/grants"

    def _target(form: Form) -> tuple[Principal, tuple[SecurableType, str]]:
        kind = PrincipalKind(field(form, "principal_type") or "user")
        principal = users.get_principal(kind, field(form, "principal"))
        return principal, check_securable(
            field(form, "securable_type"), field(form, "securable_id")
        )

    def grant(request: Request, form: Form) -> str:
        principal, securable = _target(form)
        privilege = check_privilege(field(form, "privilege"))
        security.grants.grant(principal, privilege, securable, deny=field(form, "deny") == "1")
        return "/admin/grants"

    def revoke(request: Request, form: Form) -> str:
        principal, securable = _target(form)
        security.grants.revoke(principal, securable, check_privilege(field(form, "privilege")))
        return "/admin/grants"

    return [
        renderer.get("/admin/grants", grants_page, requires("read", "grant")),
        renderer.post("/admin/groups/create", create_group, requires("create", "principal")),
        renderer.post(
            "/admin/groups/members", add_member, requires("update", "principal", "group")
        ),
        renderer.post("/admin/grants/grant", grant, requires("create", "grant")),
        renderer.post("/admin/grants/revoke", revoke, requires("delete", "grant")),
        renderer.get("/admin/users", users_page, requires("read", "principal")),
        renderer.post("/admin/users/create", create, requires("create", "principal")),
        renderer.post("/admin/users/admin", set_admin, requires("update", "principal", "username")),
        renderer.post("/admin/users/delete", delete, requires("delete", "principal", "username")),
        renderer.get("/admin/audit", audit_page, requires("read", "audit")),
    ]
