"""JudgeCacheService: judges' verdicts kept by the server, shared by every evaluation that
asks the same judge the same question (keys are SHA-256 digests, made by the SDK)."""

from __future__ import annotations

import math
import re

from heron.entities.evaluation import CachedVerdict
from heron.errors import InvalidParameter
from heron.services.access import Authorizer, authorize
from heron.store.evaluation import JudgeCacheStore

_KEY = re.compile(r"[0-9a-f]{64}")
KEY_LENGTH = 64  # judge_cache.cache_key and scorer_digest: SHA-256 in hex
MAX_MODEL = 500  # judge_cache.model


class JudgeCacheService:
    def __init__(self, store: JudgeCacheStore, authorizer: Authorizer) -> None:
        self._store = store
        self._authorizer = authorizer

    def get_verdict(self, key: str) -> CachedVerdict | None:
        authorize(self._authorizer, "read", "judge_cache", _key(key))
        return self._store.get_verdict(key)

    def put_verdict(self, verdict: CachedVerdict) -> None:
        authorize(self._authorizer, "create", "judge_cache", _key(verdict.key))
        if (
            not _KEY.fullmatch(verdict.scorer_digest)
            or not verdict.model
            or len(verdict.model) > MAX_MODEL
        ):
            raise InvalidParameter("A cached verdict needs a scorer digest and a model name")
        if min(verdict.input_tokens, verdict.output_tokens) < 0 or not (
            math.isfinite(verdict.cost_usd) and verdict.cost_usd >= 0
        ):
            raise InvalidParameter("A cached verdict's tokens and cost are non-negative")
        self._store.put_verdict(verdict)


def _key(key: str) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidParameter("A judge cache key is 64 lower-case hex digits (SHA-256)")
    return key
