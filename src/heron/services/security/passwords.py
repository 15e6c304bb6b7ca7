"""Passwords: hashed with argon2id (argon2-cffi's defaults, RFC 9106's second choice)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from heron.errors import InvalidParameter

MIN_LENGTH = 8
MAX_LENGTH = 1024  # argon2 takes any length; this bounds the work one request can ask for

_hasher = PasswordHasher()


def check_password(password: object) -> str:
    """A password a user may choose: a string of 8 to 1,024 characters."""
    if not isinstance(password, str) or not password:
        raise InvalidParameter("Password cannot be empty")
    if len(password) < MIN_LENGTH:
        raise InvalidParameter(f"Password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise InvalidParameter(f"Password must be at most {MAX_LENGTH} characters long")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def verify_password(password_hash: str, password: str) -> bool:
    """True when `password` is the one hashed; never raises for a wrong one."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A hash of nothing anyone knows: checked when a user does not exist, so that a login takes
# as long whether the name is known or not.
DUMMY_HASH = _hasher.hash("heron: no such user, this hash matches no password")
