"""Page tokens of lists ordered by (a time, an id): the last row's pair, encoded opaquely,
tied to the list it was issued for."""

from __future__ import annotations

import base64

import orjson

from heron.errors import InvalidParameter

_MAX_TOKEN_CHARS = 1000


def encode(scope: str, time: int, id_: str) -> str:
    return base64.urlsafe_b64encode(orjson.dumps([scope, time, id_])).decode().rstrip("=")


def decode(scope: str, token: str) -> tuple[int, str]:
    """The (time, id) of the row a page ended on. Raises InvalidParameter for a token not
    issued for `scope`."""
    bad = InvalidParameter(
        "Invalid page_token: it is corrupted or was not issued for this list; list again "
        "without page_token and page with the tokens it returns"
    )
    if len(token) > _MAX_TOKEN_CHARS:
        raise bad
    try:
        found = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise bad from None
    if (
        not isinstance(found, list)
        or len(found) != 3
        or found[0] != scope
        or type(found[1]) is not int
        or not isinstance(found[2], str)
        or not -(2**63) <= found[1] < 2**63
    ):
        raise bad
    return found[1], found[2]
