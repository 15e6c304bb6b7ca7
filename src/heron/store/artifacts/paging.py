"""Opaque page tokens for artifact listings: the last name of the page, base64-encoded."""

from __future__ import annotations

import base64
import binascii

from heron.errors import InvalidParameter


def encode_token(name: str) -> str:
    """The token that resumes a listing after `name` (any str, even undecodable file names)."""
    raw = name.encode("utf-8", "surrogateescape")
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode_token(token: str) -> str:
    """The name a token from `encode_token` holds; InvalidParameter for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token.encode("ascii"))
        return raw.decode("utf-8", "surrogateescape")
    except (ValueError, binascii.Error, UnicodeError):
        raise InvalidParameter(f"Invalid page_token {token[:100]!r}") from None
