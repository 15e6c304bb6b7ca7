"""Protections on every request and response, with or without `--auth`: the Host allow-list
(against DNS rebinding), the CORS allow-list, security headers and the access log."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heron.server.errors import error_response
from heron.server.wire import header

access_log = logging.getLogger("heron.access")

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]", "::1")
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HEADERS = (("x-content-type-options", "nosniff"), ("referrer-policy", "same-origin"))
# A response without a policy of its own (the API's) may not be framed or run anything; pages
# and artifact previews set their own (frame-ancestors 'self' lets the UI show a preview).
_API_CSP = "default-src 'none'; frame-ancestors 'none'"


def default_allowed_hosts(listen_host: str) -> tuple[str, ...]:
    """Listening on this machine only: only its own names may reach the server (a page that
    rebinds its DNS name to 127.0.0.1 is refused). Listening beyond: any name, unless
    --allowed-hosts says which."""
    return LOOPBACK_NAMES if listen_host in LOOPBACK_NAMES else ("*",)


def host_allowed(host: str, allowed: Sequence[str]) -> bool:
    """`host` (a Host header: name[:port]) against entries such as `example.com`,
    `example.com:5000`, `*.example.com` or `*`."""
    host = host.strip().lower()
    if host.startswith("["):  # [::1]:5000
        name = host[: host.find("]") + 1] if "]" in host else host
    else:
        name = host.rsplit(":", 1)[0]
    for entry in allowed:
        entry = entry.lower()
        if entry == "*" or entry in (host, name):
            return True
        if entry.startswith("*.") and name.endswith(entry[1:]):
            return True
    return False


class Hardening:
    """Pure ASGI, the outermost layer: refuses what must not reach a route, adds the headers."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        allowed_hosts: Sequence[str],
        cors_origins: Sequence[str] = (),
        open_warning: bool = False,
        log_requests: bool = True,
    ) -> None:
        self.app = app
        self.allowed_hosts = tuple(allowed_hosts)
        self.cors_origins = frozenset(o.rstrip("/") for o in cors_origins)
        self.open_warning = open_warning
        self.log_requests = log_requests

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = [0]
        refused = self._refusal(scope)
        origin = header(scope, b"origin")
        cors = origin is not None and origin.rstrip("/") in self.cors_origins

        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in _HEADERS:
                    if name not in headers:
                        headers.append(name, value)
                if "content-security-policy" not in headers:
                    headers.append("content-security-policy", _API_CSP)
                    headers.append("x-frame-options", "DENY")
                if cors and origin is not None:
                    headers["access-control-allow-origin"] = origin
                    headers.add_vary_header("Origin")
            await send(message)

        if self.open_warning:
            scope.setdefault("state", {})["open_warning"] = True
        if refused is not None:
            await refused(scope, receive, send_hardened)
        elif cors and scope["method"] == "OPTIONS":
            await _preflight(scope)(scope, receive, send_hardened)
        else:
            await self.app(scope, receive, send_hardened)
        if self.log_requests:
            _log(scope, status[0], started)

    def _refusal(self, scope: Scope) -> Response | None:
        host = header(scope, b"host")
        if host is not None and not host_allowed(host, self.allowed_hosts):
            return error_response(
                "PERMISSION_DENIED",
                f"Host {host[:100]!r} is not one this server answers to (see --allowed-hosts)",
            )
        origin = header(scope, b"origin")
        if origin and origin != "null" and scope["method"] in _UNSAFE | {"OPTIONS"}:
            same = host is not None and origin.split("://", 1)[-1].rstrip("/") == host
            if not same and origin.rstrip("/") not in self.cors_origins:
                return error_response(
                    "PERMISSION_DENIED",
                    f"Cross-origin request from {origin[:100]} refused (see --cors-allowed-origin)",
                )
        return None


def _preflight(scope: Scope) -> Response:
    response = PlainTextResponse("", status_code=204)
    response.headers["access-control-allow-methods"] = "GET, POST, PUT, PATCH, DELETE, HEAD"
    requested = header(scope, b"access-control-request-headers")
    if requested:
        response.headers["access-control-allow-headers"] = requested[:1000]
    response.headers["access-control-max-age"] = "600"
    return response


def _log(scope: Scope, status: int, started: float) -> None:
    """One line a request: address, user, method, path (never the query string, which may
    carry a token), status, milliseconds."""
    state = scope.get("state") or {}
    identity = state.get("identity") or state.get("claimed")
    client = scope.get("client")
    access_log.info(
        "%s %s %s %s %d %.1fms %s",
        client[0] if client else "-",
        identity.name if identity is not None else "-",
        scope["method"],
        scope["path"],
        status,
        (time.perf_counter() - started) * 1000,
        state.get("request_id", "-"),
    )
