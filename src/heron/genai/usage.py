"""What the judges of one evaluation used: calls, tokens and dollars, and what the judge cache
saved. The evaluation sets one Usage in a context variable its worker threads share."""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field


@dataclass
class Usage:
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cache_hits: int = 0
    cache_misses: int = 0
    saved_usd: float = 0.0
    saved_tokens: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def called(self, input_tokens: int, output_tokens: int, cost_usd: float) -> None:
        with self._lock:
            self.calls += 1
            self.input_tokens += input_tokens
            self.output_tokens += output_tokens
            self.cost_usd += cost_usd
            self.cache_misses += 1

    def hit(self, tokens: int, cost_usd: float) -> None:
        with self._lock:
            self.cache_hits += 1
            self.saved_tokens += tokens
            self.saved_usd += cost_usd


_current: contextvars.ContextVar[Usage | None] = contextvars.ContextVar(
    "heron_judge_usage", default=None
)


def current_usage() -> Usage | None:
    return _current.get()


@contextlib.contextmanager
def tracking_usage() -> Iterator[Usage]:
    """Counts the judge calls made in this context (and in copies of it) until the block ends."""
    usage = Usage()
    token = _current.set(usage)
    try:
        yield usage
    finally:
        _current.reset(token)
