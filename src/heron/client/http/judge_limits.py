"""The judge endpoints' shared token buckets over HTTP (Heron's /judge-limits/merge)."""

from __future__ import annotations

from heron.client.http.datasets import HERON_API
from heron.client.http.transport import Transport
from heron.entities.evaluation import SharedLimits


class HttpJudgeLimits:
    """The server's token bucket of each judge endpoint, shared by its callers."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def merge_limits(self, key: str, tokens: int, pause_ms: int = 0) -> SharedLimits:
        found = self._t.post(
            f"{HERON_API}/judge-limits/merge", {"key": key, "tokens": tokens, "pause_ms": pause_ms}
        )
        return SharedLimits(
            window_tokens=int(found.get("window_tokens", 0)),
            window_left_ms=int(found.get("window_left_ms", 0)),
            pause_left_ms=int(found.get("pause_left_ms", 0)),
        )
