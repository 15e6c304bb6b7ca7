"""JudgeLimitService: the token bucket of each judge endpoint, shared by every process that
calls it on one database (the server's job worker, `heron worker`s, evaluations run against
the server). Each process merges what it used, and the pause a 429 asked for, about once a
second; keys are SHA-256 digests of the endpoint, made by the SDK."""

from __future__ import annotations

import re

from heron.clock import now_ms
from heron.entities.evaluation import SharedLimits
from heron.errors import InvalidParameter
from heron.services.access import Authorizer, authorize
from heron.store.evaluation import JudgeLimitStore

_KEY = re.compile(r"[0-9a-f]{64}")
KEY_LENGTH = 64  # judge_limits.endpoint_key: SHA-256 in hex
WINDOW_MS = 60_000  # tokens are counted per minute
MAX_TOKENS = 10**9  # merged at once: far above any endpoint's minute
MAX_PAUSE_MS = 60_000  # a Retry-After is honoured up to a minute, as in the process


class JudgeLimitService:
    def __init__(self, store: JudgeLimitStore, authorizer: Authorizer) -> None:
        self._store = store
        self._authorizer = authorizer

    def merge_limits(self, key: str, tokens: int, pause_ms: int = 0) -> SharedLimits:
        """Adds `tokens` used since the caller's last merge and a pause of `pause_ms` from
        now (a 429's Retry-After); returns the endpoint's bucket as every caller sees it.

        Raises:
            InvalidParameter: a key that is not a SHA-256 digest, or counts out of range.
        """
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise InvalidParameter("A judge endpoint's key is 64 lower-case hex digits (SHA-256)")
        authorize(self._authorizer, "update", "judge_cache", key)
        if not 0 <= tokens <= MAX_TOKENS:
            raise InvalidParameter(f"tokens is between 0 and {MAX_TOKENS}, not {tokens}")
        if not 0 <= pause_ms <= MAX_PAUSE_MS:
            raise InvalidParameter(f"pause_ms is between 0 and {MAX_PAUSE_MS}, not {pause_ms}")
        now = now_ms()
        return self._store.merge_limits(
            key, tokens, now + pause_ms if pause_ms else 0, now, WINDOW_MS
        )
