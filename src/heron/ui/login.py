"""The login page and logout: a password becomes a server-side session (an HttpOnly cookie)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute

from heron.errors import HeronError
from heron.services.access import PUBLIC
from heron.services.security.authentication import Authenticator
from heron.ui import csrf
from heron.ui.rendering import Renderer, field, read_form, safe_next
from heron.web.routes import PolicyRoute

SESSION_COOKIE = "heron_session"


def routes(
    renderer: Renderer, authenticator: Authenticator, *, sso: bool = False
) -> list[BaseRoute]:
    def form(request: Request, error: str = "", status: int = 200) -> Response:
        target = safe_next(request.query_params.get("next"))
        context = {"next": target, "error": error, "nav": "", "sso": sso}
        return renderer.render(request, "login.html", context, status=status)

    async def login_page(request: Request) -> Response:
        return form(request)

    async def login(request: Request) -> Response:
        try:
            fields = await read_form(request)
            csrf.check(request, field(fields, csrf.FIELD) or None)
            username, password = field(fields, "username"), field(fields, "password")
            identity = await run_in_threadpool(authenticator.check_password, username, password)
            cookie, _ = await run_in_threadpool(authenticator.start_session, identity)
        except HeronError as exc:
            return form(request, exc.message, status=401 if exc.code == "UNAUTHENTICATED" else 400)
        response = RedirectResponse(safe_next(field(fields, "next")), status_code=303)
        secure = request.url.scheme == "https"
        response.set_cookie(
            SESSION_COOKIE, cookie, httponly=True, samesite="lax", secure=secure, path="/",
            max_age=authenticator.policy.session_s,
        )  # fmt: skip
        return response

    async def logout(request: Request) -> Response:
        try:
            fields = await read_form(request)
            csrf.check(request, field(fields, csrf.FIELD) or None)
        except HeronError as exc:
            return renderer.error(request, exc)
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            await run_in_threadpool(authenticator.end_session, cookie)
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return [
        PolicyRoute("/login", login_page, methods=["GET"], policy=PUBLIC),
        PolicyRoute("/login", login, methods=["POST"], policy=PUBLIC),
        PolicyRoute("/logout", logout, methods=["POST"], policy=PUBLIC),
    ]
