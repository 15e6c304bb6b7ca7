"""Per-minute figures of the serving endpoints, added up in memory by the process that routes
their requests and written out whole from time to time (`EndpointMinute` rows)."""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass, field, replace

from heron.entities.serving import LATENCY_BUCKETS_MS, EndpointMinute

_KEEP_MS = 3 * 60_000  # minutes older than this, once written, leave memory


@dataclass(slots=True)
class _Figures:
    requests: int = 0
    errors_4xx: int = 0
    errors_5xx: int = 0
    latency_sum_ms: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS_MS) + 1))
    shadow_requests: int = 0
    shadow_agreed: int = 0
    shadow_errors: int = 0
    shadow_latency_diff_sum_ms: float = 0.0
    capture_dropped: int = 0
    changed: bool = True


Key = tuple[str, int, str, str]  # endpoint id, minute, served entity, served version


class MinuteStats:
    """Thread-safe counters per endpoint, minute, served entity and version."""

    def __init__(self) -> None:
        self._figures: dict[Key, _Figures] = {}
        self._lock = threading.Lock()

    def _at(self, endpoint_id: str, now_ms: int, entity: str, version: str) -> _Figures:
        key = (endpoint_id, now_ms - now_ms % 60_000, entity, version)
        figures = self._figures.get(key)
        if figures is None:
            figures = self._figures[key] = _Figures()
        figures.changed = True
        return figures

    def request(
        self, endpoint_id: str, now_ms: int, entity: str, version: str, status: int, ms: float
    ) -> None:
        with self._lock:
            f = self._at(endpoint_id, now_ms, entity, version)
            f.requests += 1
            if 400 <= status < 500:
                f.errors_4xx += 1
            elif status >= 500:
                f.errors_5xx += 1
            f.latency_sum_ms += ms
            f.buckets[bisect.bisect_left(LATENCY_BUCKETS_MS, ms)] += 1

    def shadow(
        self,
        endpoint_id: str,
        now_ms: int,
        entity: str,
        version: str,
        *,
        ok: bool,
        agreed: bool,
        latency_diff_ms: float,
    ) -> None:
        with self._lock:
            f = self._at(endpoint_id, now_ms, entity, version)
            f.shadow_requests += 1
            if not ok:
                f.shadow_errors += 1
            elif agreed:
                f.shadow_agreed += 1
            f.shadow_latency_diff_sum_ms += latency_diff_ms

    def dropped(self, endpoint_id: str, now_ms: int) -> None:
        with self._lock:
            self._at(endpoint_id, now_ms, "", "").capture_dropped += 1

    def changed(self, now_ms: int) -> list[EndpointMinute]:
        """The minutes that changed since the last call (their whole figures), forgetting
        minutes too old to change again."""
        out = []
        with self._lock:
            for key, f in list(self._figures.items()):
                if f.changed:
                    out.append(_minute(key, f))
                    f.changed = False
                elif key[1] < now_ms - _KEEP_MS:
                    del self._figures[key]
        return out

    def unwritten(self, minutes: list[EndpointMinute]) -> None:
        """Marks `minutes` as changed again (their write failed)."""
        with self._lock:
            for m in minutes:
                key = (m.endpoint_id, m.minute, m.served_entity, m.served_version)
                if key in self._figures:
                    self._figures[key].changed = True


def _minute(key: Key, f: _Figures) -> EndpointMinute:
    endpoint_id, minute, entity, version = key
    base = EndpointMinute(
        endpoint_id=endpoint_id, minute=minute, served_entity=entity, served_version=version
    )
    return replace(
        base,
        requests=f.requests,
        errors_4xx=f.errors_4xx,
        errors_5xx=f.errors_5xx,
        latency_sum_ms=f.latency_sum_ms,
        latency_buckets=tuple(f.buckets),
        shadow_requests=f.shadow_requests,
        shadow_agreed=f.shadow_agreed,
        shadow_errors=f.shadow_errors,
        shadow_latency_diff_sum_ms=f.shadow_latency_diff_sum_ms,
        capture_dropped=f.capture_dropped,
    )
