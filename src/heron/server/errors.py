"""The handlers that answer errors with MLflow's JSON body and the status of heron.web.status."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heron.errors import HeronError
from heron.server.wire import json_response
from heron.store.artifacts.ranges import RangeNotSatisfiable
from heron.web.status import status_for

_log = logging.getLogger("heron.server")


def error_response(code: str, message: str) -> Response:
    return json_response({"error_code": code, "message": message}, status_for(code))


def heron_error_response(exc: HeronError) -> Response:
    """The answer to `exc`; a range outside a file also says the file's size (RFC 9110)."""
    answer = error_response(exc.code, exc.message)
    if isinstance(exc, RangeNotSatisfiable):
        answer.headers["Content-Range"] = f"bytes */{exc.size}"
    return answer


async def heron_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HeronError)  # noqa: S101 (registered for HeronError only)
    return heron_error_response(exc)


async def http_error(request: Request, exc: Exception) -> Response:
    """Routing errors. MLflow compat: an unknown route is a 404 whose body is NOT JSON; the
    client reads that as ENDPOINT_NOT_FOUND, and several of its fallbacks rely on it."""
    assert isinstance(exc, HTTPException)  # noqa: S101
    return PlainTextResponse(exc.detail, status_code=exc.status_code, headers=exc.headers)


class UnexpectedErrors:
    """The outermost of Heron's middleware: answers a HeronError raised outside the routes (by
    the middleware inside it) as the routes' handler does, and a bug (any other exception no
    handler took) with a generic 500, its traceback logged; the connection stays open either
    way. (Starlette's own handler re-raises after the answer, and uvicorn then drops the
    keep-alive connection unannounced: the client's next request on it failed.) An exception
    after the answer started is re-raised: too late."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except HeronError as exc:
            if started:
                raise
            await heron_error_response(exc)(scope, receive, send)
        except Exception:
            if started:
                raise
            _log.exception("Unexpected error answering %s %s", scope["method"], scope["path"])
            answer = error_response("INTERNAL_ERROR", "Internal server error; see the server log")
            await answer(scope, receive, send)
