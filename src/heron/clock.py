"""The one clock: MLflow's timestamps are integer milliseconds since the epoch; durations."""

from __future__ import annotations

import re
import time

_UNITS_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1000}
_DURATION = re.compile(r"(\d+)([dhms])")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def duration_ms(text: str) -> int | None:
    """`1d2h3m4s` (any subset, in that order) as milliseconds; None when it is not one."""
    compact = text.replace(" ", "").lower()
    parts = _DURATION.findall(compact)
    if not parts or "".join(n + u for n, u in parts) != compact:
        return None
    return sum(int(n) * _UNITS_MS[u] for n, u in parts)
