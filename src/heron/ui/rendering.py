"""Jinja2 rendering for the UI: the environment, its filters, pages, form actions and flashes."""

from __future__ import annotations

import datetime as dt
import math
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from heron.errors import HeronError, InvalidParameter
from heron.services import validation
from heron.services.access import Policy
from heron.ui import csrf
from heron.web.routes import PolicyRoute
from heron.web.status import status_for

TEMPLATES = Path(__file__).parent / "templates"
FLASH_COOKIE = "heron_flash"
MAX_FORM_BYTES = 1 << 20
# Scripts only from this server; inline styles are allowed because the chart library sets
# them on the elements it draws. Artifacts get a stricter policy of their own.
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; frame-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}

PageResult = Response | tuple[str, Mapping[str, Any]]
Form = Mapping[str, list[str]]


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every string a user gave is escaped, in every template
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(ms_time=ms_time, duration=duration, number=number, filesize=filesize)
    env.globals.update(url_with=url_with)
    return env


def ms_time(ms: int | None) -> str:
    """Milliseconds since the epoch as a UTC date and time ('' for none; a time no calendar
    date holds, as a run's start_time may be, as its number)."""
    if ms is None:
        return ""
    try:
        return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (ValueError, OverflowError, OSError):
        return f"{ms} ms"


def duration(start_ms: int | None, end_ms: int | None) -> str:
    """A run's duration in the largest units that say it in two parts ('' while unknown)."""
    if start_ms is None or end_ms is None or end_ms < start_ms:
        return ""
    seconds = (end_ms - start_ms) / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, sec = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}min {sec}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes}min"
    return f"{hours // 24}d {hours % 24}h"


def number(value: float | None) -> str:
    """A metric value short enough for a table cell, exact enough to compare."""
    if value is None:
        return ""
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def filesize(size: int | None) -> str:
    if size is None:
        return ""
    amount = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if amount < 1024:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"


def url_with(request: Request, **changes: str | list[str] | None) -> str:
    """This page's path and query with `changes` applied (None removes a key): links that
    change one thing (sort, page, columns) and keep the rest, so every view can be shared."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    for key, value in changes.items():
        if value is None:
            continue
        for one in [value] if isinstance(value, str) else value:
            items.append((key, one))
    query = urllib.parse.urlencode(items)
    return request.url.path + ("?" + query if query else "")


@dataclass
class Renderer:
    env: jinja2.Environment

    def render(
        self, request: Request, name: str, context: Mapping[str, Any], status: int = 200
    ) -> Response:
        token, new = csrf.token_for(request)
        flash = request.cookies.get(FLASH_COOKIE)
        html = self.env.get_template(name).render(
            request=request,
            csrf_field=csrf.FIELD,
            csrf_token=token,
            flash=urllib.parse.unquote(flash) if flash else None,
            **context,
        )
        response = HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)
        if new:
            csrf.remember(response, token)
        if flash:
            response.delete_cookie(FLASH_COOKIE, path="/")
        return response

    def page(
        self, handler: Callable[[Request], PageResult]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A GET endpoint: `handler` (run in the threadpool: it calls the services) returns a
        template name and its context; a HeronError is shown as an error page with its status."""

        async def endpoint(request: Request) -> Response:
            try:
                result = await run_in_threadpool(handler, request)
            except HeronError as exc:
                return self.error(request, exc)
            if isinstance(result, Response):
                return result
            name, context = result
            return self.render(request, name, context)

        endpoint.__name__ = handler.__name__
        return endpoint

    def get(
        self, path: str, handler: Callable[[Request], PageResult], policy: Policy
    ) -> PolicyRoute:
        """The route of a page (see `page`)."""
        return PolicyRoute(path, self.page(handler), methods=["GET"], policy=policy)

    def post(
        self, path: str, handler: Callable[[Request, Form], str], policy: Policy
    ) -> PolicyRoute:
        """The route of a form action (see `action`)."""
        return PolicyRoute(path, self.action(handler), methods=["POST"], policy=policy)

    def error(self, request: Request, exc: HeronError) -> Response:
        status = status_for(exc.code)
        return self.render(
            request, "error.html", {"code": exc.code, "message": exc.message}, status=status
        )

    def action(
        self, handler: Callable[[Request, Form], str]
    ) -> Callable[[Request], Awaitable[Response]]:
        """A POST endpoint for a form: checks the CSRF token, runs `handler` (which returns
        where to go next) and redirects there (303). A HeronError goes back to the page the
        form was on, with its message shown there."""

        async def endpoint(request: Request) -> Response:
            try:
                form = await read_form(request)
                csrf.check(request, _first(form, csrf.FIELD))
            except HeronError as exc:
                return self.error(request, exc)
            back = safe_next(_first(form, "next"))
            try:
                target = await run_in_threadpool(handler, request, form)
            except HeronError as exc:
                response = RedirectResponse(back, status_code=303)
                message = urllib.parse.quote(exc.message[:800])
                response.set_cookie(
                    FLASH_COOKIE, message, httponly=True, samesite="strict", path="/"
                )
                return response
            return RedirectResponse(target, status_code=303)

        endpoint.__name__ = handler.__name__
        return endpoint


async def read_form(request: Request) -> dict[str, list[str]]:
    """An application/x-www-form-urlencoded body (what the UI's forms send), size-limited."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        raise InvalidParameter("Forms must be sent as application/x-www-form-urlencoded")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise InvalidParameter(f"Form is larger than {MAX_FORM_BYTES} bytes")
    try:
        text = body.decode()
    except UnicodeDecodeError:
        raise InvalidParameter("Form is not valid UTF-8") from None
    form = urllib.parse.parse_qs(text, keep_blank_values=True, strict_parsing=False)
    if ("%00" in text or "\x00" in text) and any(
        "\x00" in k or any("\x00" in v for v in vs) for k, vs in form.items()
    ):
        raise validation.holds_nul("A form field")
    return form


def _first(form: Form, key: str) -> str | None:
    values = form.get(key)
    return values[0] if values else None


def field(form: Form, key: str) -> str:
    """A form field's value ('' when absent)."""
    return _first(form, key) or ""


def safe_next(target: str | None) -> str:
    """A redirect target from a form: a path on this site only (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
