"""CSRF protection for the UI's forms: a per-browser token in a cookie and in every form.

Double submit: the token lives in an HttpOnly, SameSite=Strict cookie and in a hidden field
of each form the page renders. A state-changing request must carry both, equal; a page on
another site can neither read the cookie nor (with SameSite=Strict) send it. A request whose
Origin header names another host is refused as well."""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

from heron.errors import PermissionDenied

COOKIE = "heron_csrf"
FIELD = "csrf_token"
_TOKEN_CHARS = 43  # secrets.token_urlsafe(32)


def token_for(request: Request) -> tuple[str, bool]:
    """The browser's token, and whether it is new (then `remember` must set the cookie)."""
    token = request.cookies.get(COOKIE, "")
    if len(token) == _TOKEN_CHARS and token.replace("-", "").replace("_", "").isalnum():
        return token, False
    return secrets.token_urlsafe(32), True


def remember(response: Response, token: str) -> None:
    response.set_cookie(COOKIE, token, httponly=True, samesite="strict", path="/")


def check(request: Request, submitted: str | None) -> None:
    """Raises PermissionDenied unless the form's token matches the cookie's and the request
    comes from this site."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = origin.split("://", 1)[-1]
        if host != request.headers.get("host", ""):
            raise PermissionDenied(f"Cross-site request from {origin} refused")
    cookie = request.cookies.get(COOKIE, "")
    submitted = submitted or ""
    # compare_digest takes str only when ASCII; a token of ours always is.
    present = cookie.isascii() and submitted.isascii() and bool(cookie and submitted)
    if not present or not hmac.compare_digest(cookie, submitted):
        raise PermissionDenied(
            "The form's security token is missing or stale: reload the page and try again"
        )
