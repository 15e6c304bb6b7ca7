"""Auth middleware: who is calling. What they may do is checked in the services."""

from __future__ import annotations

import base64
import binascii

from starlette.types import ASGIApp, Receive, Scope, Send

from heron.services.access import ANONYMOUS, Identity, identity_scope
from heron.services.validation import MAX_CALLER_NAME, check_length, check_text

TOKEN_IDENTITY = Identity(name="token")


def identity_from_authorization(header: bytes | None) -> Identity:
    """`Basic user:pass` -> user (password not checked yet), `Bearer` -> token, else anonymous.

    Raises:
        InvalidParameter: a user name no row can record as its author (a user_id, owner,
            creator or requester column): wider than those, or holding a NUL character.
    """
    if not header:
        return ANONYMOUS
    scheme, _, credentials = header.partition(b" ")
    scheme = scheme.lower()
    if scheme == b"basic":
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return ANONYMOUS
        user = decoded.partition(":")[0]
        if not user:
            return ANONYMOUS
        what = "The user name of the Authorization header"
        return Identity(name=check_text(what, check_length(what, user, MAX_CALLER_NAME)))
    if scheme == b"bearer":
        return TOKEN_IDENTITY
    return ANONYMOUS


class IdentityMiddleware:
    """Runs each HTTP request inside `identity_scope` of its caller (pure ASGI, no copies)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                header = value
                break
        with identity_scope(identity_from_authorization(header)):
            await self.app(scope, receive, send)
