"""Heron's own security API under /api/2.0/heron: tokens, groups, service principals, grants
(Unity Catalog style privileges) and the audit log."""

from __future__ import annotations

from heron.entities.security import AccessToken, AuditEntry, Grant, PrincipalKind
from heron.errors import InvalidParameter
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import PUBLIC, requires
from heron.services.security.bundle import SecurityServices
from heron.services.security.decisions import placed
from heron.services.security.grant_service import check_privilege, check_securable
from heron.services.security.workloads import WorkloadExchange
from heron.store.security import AuditQuery
from heron.web.routes import PolicyRoute


def token_json(t: AccessToken) -> Json:
    return {
        "token_id": t.token_id, "name": t.name, "scopes": list(t.scopes),
        "created_time": t.created_time, "expires_time": t.expires_time,
        "revoked_time": t.revoked_time, "last_used_time": t.last_used_time,
    }  # fmt: skip


def grant_json(g: Grant) -> Json:
    """A grant; one on a registered model or prompt, or on `*` of experiments, models or
    prompts, names its workspace."""
    workspace, securable_id = placed(g.securable_type, g.securable_id)
    return {
        "grant_id": g.grant_id, "principal": g.principal_name,
        "principal_type": g.principal_kind.value, "privilege": g.privilege.value,
        "securable_type": g.securable_type.value, "securable_id": securable_id,
        **({} if workspace is None else {"workspace": workspace}),
        "deny": g.deny, "aliases": None if g.aliases is None else list(g.aliases),
        "created_time": g.created_time, "created_by": g.created_by,
    }  # fmt: skip


def audit_json(e: AuditEntry) -> Json:
    return {name: getattr(e, name) for name in AuditEntry.__dataclass_fields__}


def _kind(f: Fields) -> PrincipalKind:
    raw = f.string("principal_type") or "user"
    try:
        return PrincipalKind(raw)
    except ValueError:
        raise InvalidParameter(
            f"principal_type {raw!r} must be user, group or service_principal"
        ) from None


def _scopes(f: Fields) -> list[str]:
    raw = f.data.get("scopes", ["read", "write"])
    if isinstance(raw, str):
        raw = raw.split()
    if not isinstance(raw, list) or not all(isinstance(s, str) for s in raw):
        raise InvalidParameter("scopes must be a list of read, write, manage")
    return raw


def token_routes(
    api: Endpoints, security: SecurityServices, workloads: WorkloadExchange
) -> list[PolicyRoute]:
    tokens = security.tokens

    def exchange(f: Fields) -> Json:
        """RFC 8693's shape: a workload's own token in, a short-lived Heron token out."""
        made, text = workloads.exchange(f.required_string("subject_token"))
        expires_in = ((made.expires_time or 0) - made.created_time) // 1000
        return {"access_token": text, "token_type": "Bearer", "expires_in": expires_in,
                "issued_token_type": "urn:ietf:params:oauth:token-type:access_token"}  # fmt: skip

    def create(f: Fields) -> Json:
        made, text = tokens.create_token(
            f.required_string("name"), scopes=_scopes(f),
            expires_in_days=f.int64("expires_in_days") or 90,
            service_principal=f.string("service_principal"),
        )  # fmt: skip
        return {"token": text, "token_info": token_json(made)}

    def list_tokens(f: Fields) -> Json:
        found = tokens.list_tokens(f.string("service_principal"))
        return {"tokens": [token_json(t) for t in found]}

    def revoke(f: Fields) -> Json:
        tokens.revoke_token(f.required_string("token_id"))
        return {}

    def rotate(f: Fields) -> Json:
        overlap = f.int64("overlap_s")
        made, text = tokens.rotate_token(
            f.required_string("token_id"), overlap_s=3600 if overlap is None else overlap
        )
        return {"token": text, "token_info": token_json(made)}

    return [
        api.post("/tokens/create", create, requires("create", "token")),
        api.get("/tokens/list", list_tokens, requires("read", "token")),
        api.post("/tokens/revoke", revoke, requires("update", "token", "token_id")),
        api.post("/tokens/rotate", rotate, requires("create", "token", "token_id")),
        api.post("/tokens/exchange", exchange, PUBLIC),  # the body is the credential,
    ]


def principal_routes(api: Endpoints, security: SecurityServices) -> list[PolicyRoute]:
    principals = security.principals

    def create(f: Fields) -> Json:
        made = principals.create_principal(_kind(f), f.required_string("name"))
        return {"principal": {"id": made.principal_id, "name": made.name, "type": made.kind}}

    def list_principals(f: Fields) -> Json:
        found = principals.list_principals(_kind(f))
        return {"principals": [{"id": p.principal_id, "name": p.name, "type": p.kind,
                                "is_admin": p.is_admin} for p in found]}  # fmt: skip

    def delete(f: Fields) -> Json:
        principals.delete_principal(_kind(f), f.required_string("name"))
        return {}

    def membership(f: Fields, member_of: bool) -> Json:
        member_kind = PrincipalKind(f.string("member_type") or "user")
        member = principals.get_principal(member_kind, f.required_string("member"))
        principals.set_membership(f.required_string("group"), member, member_of=member_of)
        return {}

    def members(f: Fields) -> Json:
        found = principals.members(f.required_string("group"))
        return {"members": [{"name": p.name, "type": p.kind} for p in found]}

    members_of = requires("update", "principal", "group")
    return [
        api.post("/principals/create", create, requires("create", "principal")),
        api.get("/principals/list", list_principals, requires("read", "principal")),
        api.post("/principals/delete", delete, requires("delete", "principal", "name")),
        api.post("/groups/members/add", lambda f: membership(f, True), members_of),
        api.post("/groups/members/remove", lambda f: membership(f, False), members_of),
        api.get("/groups/members/list", members, requires("read", "principal", "group")),
    ]


def grant_routes(api: Endpoints, security: SecurityServices) -> list[PolicyRoute]:
    grants = security.grants

    def target(f: Fields) -> tuple[object, tuple[object, str]]:
        principal = security.principals.get_principal(_kind(f), f.required_string("principal"))
        return principal, check_securable(
            f.required_string("securable_type"), f.required_string("securable_id")
        )

    def grant(f: Fields) -> Json:
        principal, securable = target(f)
        aliases = f.data.get("aliases")
        made = grants.grant(
            principal, check_privilege(f.required_string("privilege")), securable,  # type: ignore[arg-type]
            deny=bool(f.boolean("deny")), aliases=aliases,
        )  # fmt: skip
        return {"grant": grant_json(made)}

    def revoke(f: Fields) -> Json:
        principal, securable = target(f)
        privilege = f.string("privilege")
        count = grants.revoke(
            principal, securable,  # type: ignore[arg-type]
            None if privilege is None else check_privilege(privilege),
        )  # fmt: skip
        return {"revoked": count}

    def list_grants(f: Fields) -> Json:
        kind, ident = f.string("securable_type"), f.string("securable_id")
        securable = None if kind is None else check_securable(kind, ident)
        name = f.string("principal")
        principal = None if name is None else security.principals.get_principal(_kind(f), name)
        found = grants.list_grants(securable=securable, principal=principal)
        return {"grants": [grant_json(g) for g in found]}

    def audit(f: Fields) -> Json:
        allowed = f.boolean("allowed")
        query = AuditQuery(
            principal=f.string("principal"), object_type=f.string("object_type"),
            object_id=f.string("object_id"), allowed=allowed,
            after_seq=f.int64("after_seq") or 0,
            max_results=min(max(f.int64("max_results") or 100, 1), 1000),
        )  # fmt: skip
        entries = security.audit.entries(query)
        return {"entries": [audit_json(e) for e in entries]}

    return [
        api.post("/grants/grant", grant, requires("create", "grant")),
        api.post("/grants/revoke", revoke, requires("delete", "grant")),
        api.get("/grants/list", list_grants, requires("read", "grant")),
        api.get("/audit/list", audit, requires("read", "audit")),
    ]


def routes(
    api: Endpoints, security: SecurityServices, workloads: WorkloadExchange
) -> list[PolicyRoute]:
    return [
        *token_routes(api, security, workloads),
        *principal_routes(api, security),
        *grant_routes(api, security),
    ]
