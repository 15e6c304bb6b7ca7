"""Access tokens: `heron_pat_<id>_<secret>`, found by id, checked by a keyed hash of the secret.

The secret is 256 random bits, so a fast keyed hash (HMAC-SHA256) is right for it: nobody can
guess it, and the check costs microseconds (argon2 is for passwords, which people choose). The
visible prefix lets a secret scanner find a leaked token."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PERSONAL = "heron_pat_"  # a user's personal access token
SERVICE = "heron_spt_"  # a service principal's token
WORKLOAD = "heron_wlt_"  # short-lived, from a workload's OIDC token
PREFIXES = (PERSONAL, SERVICE, WORKLOAD)

_SHAPE = re.compile(r"heron_(?:pat|spt|wlt)_([a-z0-9]{16})_([A-Za-z0-9_-]{43})")

SCOPES = ("read", "write", "manage")  # write includes read; manage includes both
DEFAULT_WORKLOAD_SCOPES = ("read", "write")


@dataclass(frozen=True, slots=True)
class NewSecret:
    token: str  # shown once to its owner, never stored
    token_id: str
    secret: str


def new_token(prefix: str) -> NewSecret:
    token_id = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(16))
    secret = secrets.token_urlsafe(32)  # 43 characters
    return NewSecret(token=f"{prefix}{token_id}_{secret}", token_id=token_id, secret=secret)


def parse_token(token: str) -> tuple[str, str] | None:
    """(token id, secret) of a well-formed token, else None."""
    match = _SHAPE.fullmatch(token)
    return None if match is None else (match.group(1), match.group(2))


def secret_hash(key: bytes, secret: str) -> str:
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def matches(key: bytes, secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(secret_hash(key, secret), stored_hash)


def allows(scopes: tuple[str, ...], action: str) -> bool:
    """Whether a token with `scopes` may do an `action` of kind read, write or manage."""
    if "manage" in scopes:
        return True
    if action == "read":
        return "read" in scopes or "write" in scopes
    return action == "write" and "write" in scopes
