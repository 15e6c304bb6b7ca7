"""With `--auth`: every request proves who is calling (Basic, Bearer or a session cookie).

MLflow's clients send `Authorization: Basic` (MLFLOW_TRACKING_USERNAME/PASSWORD) or `Bearer`
(MLFLOW_TRACKING_TOKEN); the UI's browser sends its session cookie. A request without valid
credentials is a 401 (a UI page redirects to /login instead), except the few public paths.
The identity is the authenticated one: what a caller claims elsewhere is never believed."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import secrets
from collections.abc import Callable, Sequence
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import URL
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heron.errors import HeronError, Unauthenticated
from heron.server.errors import error_response
from heron.server.wire import header
from heron.services.access import Identity, identity_scope
from heron.services.changes import Change, noted_changes
from heron.services.security.audit import AuditTrail, request_scope
from heron.services.security.bundle import SecurityServices

SESSION_COOKIE = "heron_session"
PUBLIC_PATHS = frozenset(
    {
        "/health", "/version", "/login", "/favicon.ico", "/login/oidc", "/login/oidc/callback",
        "/api/2.0/heron/tokens/exchange",
        "/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info",
    }
)  # fmt: skip
PUBLIC_PREFIXES = ("/static/",)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
T = TypeVar("T")


# Writes that are data, not governance, are not audited one by one: what a run logs, spans,
# artifact files. The security API audits its own changes with their before and after.
_NOT_AUDITED = (
    "/runs/log-metric", "/runs/log-batch", "/runs/log-parameter", "/runs/set-tag",
    "/runs/delete-tag", "/runs/log-inputs", "/runs/log-outputs", "/runs/log-model",
    "/v1/traces", "/traces", "/mlflow-artifacts/", "/heron/artifacts/", "/users/", "/roles/",
    "/heron/tokens/", "/heron/grants/", "/heron/principals/", "/heron/groups/", "/login",
    "/logout", "/settings/tokens/", "/metrics/", "/search", "/get", "/list", "/invocations",
    "/gateway/",
)  # fmt: skip


def audited_change(method: str, path: str) -> bool:
    """Whether a successful request is a change the audit log records (who, what, when)."""
    return method not in ("GET", "HEAD", "OPTIONS") and not any(p in path for p in _NOT_AUDITED)


def client_address(scope: Scope, trusted_proxies: Sequence[str]) -> str:
    """The peer's address; X-Forwarded-For is believed only from a configured proxy."""
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not trusted_proxies or not _in(peer, trusted_proxies):
        return peer
    forwarded = header(scope, b"x-forwarded-for")
    if not forwarded:
        return peer
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    while hops and _in(hops[-1], trusted_proxies):  # the nearest hop not one of ours
        hops.pop()
    return hops[-1][:64] if hops else peer


def _in(address: str, networks: Sequence[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(n, strict=False) for n in networks)


def _basic(credentials: str) -> tuple[str, str]:
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthenticated(
            "The Basic credentials are not valid base64 of user:password"
        ) from None
    user, colon, password = decoded.partition(":")
    if not user or not colon:
        raise Unauthenticated("The Basic credentials must be user:password")
    return user, password


def _cookie(scope: Scope, name: str) -> str | None:
    raw = header(scope, b"cookie")
    if not raw:
        return None
    for part in raw.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return None


class AuthenticationMiddleware:
    """Pure ASGI: authenticates, then runs the request inside its identity and context."""

    def __init__(
        self,
        app: ASGIApp,
        security: SecurityServices,
        *,
        inline: bool,
        trusted_proxies: Sequence[str] = (),
    ) -> None:
        self.app = app
        self.security = security
        self.inline = inline  # the database answers at once: no threadpool hop for the epoch
        self.trusted_proxies = tuple(trusted_proxies)

    async def _call(self, fn: Callable[[], T]) -> T:
        return fn() if self.inline else await run_in_threadpool(fn)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = header(scope, b"x-request-id") or ""
        request_id = given if _REQUEST_ID.fullmatch(given) else secrets.token_hex(16)
        scope.setdefault("state", {})["request_id"] = request_id
        with request_scope(client_address(scope, self.trusted_proxies), request_id):
            await self._authenticated(scope, receive, send)

    async def _authenticated(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        public = path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)
        try:
            await self._call(self.security.epoch.refresh)
            identity = await self._identify(scope)
        except HeronError as exc:
            if public:
                identity = None
            else:
                await error_response(exc.code, exc.message)(scope, receive, send)
                return
        if identity is None and not public:
            await self._challenge(scope, receive, send)
            return
        scope["state"]["identity"] = identity
        action = f"{scope['method']} {path[:100]}"
        audit = self.security.audit

        async def audited(message: Message) -> None:
            # Written before the caller hears the answer, so its next request finds it.
            if message["type"] == "http.response.start":
                status = message["status"]
                if status == 403:  # every refusal, whichever layer made it
                    await self._call(lambda: audit.denied(action, "request", path))
                elif 200 <= status < 300 and audited_change(scope["method"], path):
                    await self._call(lambda: _write_changes(audit, action, path, changes))
            await send(message)

        with identity_scope(identity or Identity(name="anonymous")), noted_changes() as changes:
            await self.app(scope, receive, audited)

    async def _identify(self, scope: Scope) -> Identity | None:
        authenticator = self.security.authenticator
        authorization = header(scope, b"authorization")
        if authorization:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() == "basic":
                user, password = _basic(credentials)
                cached = authenticator.cached_basic(user, password)
                if cached is not None:
                    return cached
                return await run_in_threadpool(authenticator.basic, user, password)  # argon2
            if scheme.lower() == "bearer":
                return await self._call(lambda: authenticator.bearer(credentials.strip()))
            raise Unauthenticated(f"Unsupported authorization scheme {scheme[:20]!r}")
        cookie = _cookie(scope, SESSION_COOKIE)
        if cookie:
            found = await self._call(lambda: authenticator.session(cookie))
            if found is not None:
                scope["state"]["csrf"] = found[1]
                return found[0]
        return None

    async def _challenge(self, scope: Scope, receive: Receive, send: Send) -> None:
        accept = header(scope, b"accept") or ""
        if (
            scope["method"] == "GET"
            and "text/html" in accept
            and not scope["path"].startswith(("/api/", "/ajax-api/"))
        ):
            target = URL(scope=scope)
            back = target.path + (f"?{target.query}" if target.query else "")
            response: Response = RedirectResponse(f"/login?{_next(back)}", status_code=303)
        else:
            response = error_response(
                "UNAUTHENTICATED",
                "Authentication required: send a user and password (Basic), a token "
                "(Bearer), or sign in at /login",
            )
            response.headers["WWW-Authenticate"] = 'Basic realm="heron"'
        await response(scope, receive, send)


def _next(path: str) -> str:
    from urllib.parse import urlencode

    return urlencode({"next": path})


def _write_changes(audit: AuditTrail, action: str, path: str, changes: list[Change]) -> None:
    """One entry for each object the request changed, with its fields before and after (one
    for the request itself when no service noted what it changed)."""
    if not changes:
        audit.change(action, "request", path)
    for change in changes:
        audit.change(action, change.resource, change.id, before=change.before, after=change.after)
