"""The signed-in user's access tokens: list, create (shown once), revoke."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from heron.errors import HeronError, InvalidParameter
from heron.services.access import requires
from heron.services.security.token_service import TokenService
from heron.ui import csrf
from heron.ui.rendering import Form, Renderer, field, read_form
from heron.web.routes import PolicyRoute


def routes(renderer: Renderer, tokens: TokenService) -> list[BaseRoute]:
    def page(request: Request, new_token: str = "") -> Response:
        try:
            found = tokens.list_tokens()
        except HeronError as exc:
            return renderer.error(request, exc)
        context = {"tokens": found, "new_token": new_token, "nav": ""}
        return renderer.render(request, "tokens.html", context)

    async def list_page(request: Request) -> Response:
        return await run_in_threadpool(page, request)

    async def create(request: Request) -> Response:
        try:
            form = await read_form(request)
            csrf.check(request, field(form, csrf.FIELD) or None)
            _, text = await run_in_threadpool(_create, tokens, form)
        except HeronError as exc:
            return renderer.error(request, exc)
        return await run_in_threadpool(page, request, text)  # the one time it is shown

    def revoke(request: Request, form: Form) -> str:
        tokens.revoke_token(field(form, "token_id"))
        return "/settings/tokens"

    return [
        PolicyRoute(
            "/settings/tokens", list_page, methods=["GET"], policy=requires("read", "token")
        ),
        PolicyRoute(
            "/settings/tokens/create", create, methods=["POST"], policy=requires("create", "token")
        ),
        renderer.post("/settings/tokens/revoke", revoke, requires("update", "token", "token_id")),
    ]


def _create(tokens: TokenService, form: Form) -> tuple[object, str]:
    days = field(form, "expires_in_days") or "90"
    if not (days.isascii() and days.isdigit() and len(days) < 5):
        raise InvalidParameter("Expires in must be a number of days")
    return tokens.create_token(
        field(form, "name"), scopes=form.get("scopes", []), expires_in_days=int(days)
    )
