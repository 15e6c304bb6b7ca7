"""Protections on every response, with or without `--auth` (see docs/security.md)."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class OpenServerWarning:
    """Marks each request of a server that anyone on the network may use unchecked, so that
    every UI page shows a banner saying so."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["open_warning"] = True
        await self.app(scope, receive, send)
