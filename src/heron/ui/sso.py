"""Single sign-on pages: /login/oidc sends the browser to the identity provider, and
/login/oidc/callback turns its answer into a session."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from heron.errors import HeronError
from heron.services.access import PUBLIC
from heron.services.security.authentication import Authenticator
from heron.services.security.oidc_login import OidcLogin
from heron.ui.login import SESSION_COOKIE
from heron.ui.rendering import Renderer, safe_next
from heron.web.routes import PolicyRoute

PENDING_COOKIE = "heron_oidc"
CALLBACK = "/login/oidc/callback"


def routes(
    renderer: Renderer, oidc: OidcLogin, authenticator: Authenticator, public_url: str | None
) -> list[BaseRoute]:
    def redirect_uri(request: Request) -> str:
        base = public_url or f"{request.url.scheme}://{request.url.netloc}"
        return base.rstrip("/") + CALLBACK

    async def start(request: Request) -> Response:
        target = safe_next(request.query_params.get("next"))
        try:
            url, pending = await run_in_threadpool(oidc.begin, redirect_uri(request), target)
        except HeronError as exc:
            return renderer.error(request, exc)
        response = RedirectResponse(url, status_code=303)
        response.set_cookie(
            PENDING_COOKIE, pending, max_age=600, httponly=True, samesite="lax",
            secure=request.url.scheme == "https", path=CALLBACK,
        )  # fmt: skip
        return response

    async def callback(request: Request) -> Response:
        params = request.query_params
        try:
            identity, target = await run_in_threadpool(
                oidc.finish, redirect_uri(request), params.get("code", ""),
                params.get("state", ""), request.cookies.get(PENDING_COOKIE, ""),
            )  # fmt: skip
            cookie, _ = await run_in_threadpool(authenticator.start_session, identity)
        except HeronError as exc:
            return renderer.error(request, exc)
        response = RedirectResponse(safe_next(target), status_code=303)
        response.delete_cookie(PENDING_COOKIE, path=CALLBACK)
        response.set_cookie(
            SESSION_COOKIE, cookie, httponly=True, samesite="lax",
            secure=request.url.scheme == "https", path="/",
            max_age=authenticator.policy.session_s,
        )  # fmt: skip
        return response

    return [
        PolicyRoute("/login/oidc", start, methods=["GET"], policy=PUBLIC),
        PolicyRoute(CALLBACK, callback, methods=["GET"], policy=PUBLIC),
    ]
