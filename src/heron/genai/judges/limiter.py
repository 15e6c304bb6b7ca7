"""One adaptive limiter per judge endpoint, shared by everything in the process that calls it
(offline evaluations, production scoring, the UI): how many calls may be in flight, how many
tokens a minute, and how many dollars in all.

The concurrency limit adapts as TCP's window does: each success raises it by about one per
round of calls (up to the endpoint's maximum), a 429 halves it (at most once a second, so
one burst of 429s counts once) and pauses new calls for the Retry-After the server gave."""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from heron.errors import HeronError
from heron.genai.judges.endpoint import JudgeEndpoint

_WINDOW_S = 60.0


class BudgetExceeded(HeronError):
    """The endpoint's dollar budget is spent: no more judge calls in this process."""

    code = "RESOURCE_EXHAUSTED"


@dataclass(frozen=True, slots=True, kw_only=True)
class LimiterStats:
    limit: int
    max_concurrency: int
    in_flight: int
    calls: int
    throttled: int
    tokens_last_minute: int
    spent_usd: float


class AdaptiveLimiter:
    def __init__(
        self,
        max_concurrency: int,
        *,
        tokens_per_minute: int | None = None,
        budget_usd: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_concurrency = max(1, max_concurrency)
        self.tokens_per_minute = tokens_per_minute
        self.budget_usd = budget_usd
        self._clock = clock
        self._limit = float(self.max_concurrency)
        self._in_flight = 0
        self._paused_until = 0.0
        self._last_cut = -1e9
        self._window: deque[tuple[float, int]] = deque()
        self._window_tokens = 0
        self._calls = 0
        self._throttled = 0
        self._spent = 0.0
        self._cond = threading.Condition()

    @contextlib.contextmanager
    def slot(self, estimated_tokens: int = 0) -> Iterator[None]:
        """Holds one call's place: waits for a free slot, the end of a pause, and room in the
        minute's tokens. Raises BudgetExceeded when the budget is spent."""
        with self._cond:
            while True:
                self._check_budget()
                wait = self._wait_s(estimated_tokens)
                if wait <= 0:
                    break
                self._cond.wait(timeout=min(wait, 1.0))
            self._in_flight += 1
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()

    def succeeded(self, tokens: int, cost_usd: float) -> None:
        with self._cond:
            self._calls += 1
            self._spent += cost_usd
            if tokens:
                self._window.append((self._clock(), tokens))
                self._window_tokens += tokens
            self._limit = min(float(self.max_concurrency), self._limit + 1.0 / self._limit)
            self._cond.notify_all()

    def throttled(self, retry_after_s: float | None) -> None:
        """The endpoint answered 429: fewer calls at once, and none until Retry-After."""
        with self._cond:
            self._throttled += 1
            now = self._clock()
            if now - self._last_cut >= 1.0:
                self._limit = max(1.0, self._limit / 2)
                self._last_cut = now
            if retry_after_s:
                self._paused_until = max(self._paused_until, now + min(retry_after_s, 60.0))

    def stats(self) -> LimiterStats:
        with self._cond:
            self._expire(self._clock())
            return LimiterStats(
                limit=int(self._limit), max_concurrency=self.max_concurrency,
                in_flight=self._in_flight, calls=self._calls, throttled=self._throttled,
                tokens_last_minute=self._window_tokens, spent_usd=self._spent,
            )  # fmt: skip

    def _check_budget(self) -> None:
        if self.budget_usd is not None and self._spent >= self.budget_usd:
            raise BudgetExceeded(
                f"The judge budget of ${self.budget_usd:g} is spent (${self._spent:.4f}): raise "
                "$HERON_JUDGE_BUDGET_USD to make more judge calls"
            )

    def _wait_s(self, estimated_tokens: int) -> float:
        now = self._clock()
        if now < self._paused_until:
            return self._paused_until - now
        if self._in_flight >= int(self._limit):
            return 1.0  # woken by a release
        if self.tokens_per_minute is None:
            return 0.0
        self._expire(now)
        if not self._window or self._window_tokens + estimated_tokens <= self.tokens_per_minute:
            return 0.0
        return max(0.01, self._window[0][0] + _WINDOW_S - now)

    def _expire(self, now: float) -> None:
        while self._window and self._window[0][0] <= now - _WINDOW_S:
            self._window_tokens -= self._window.popleft()[1]


_limiters: dict[str, AdaptiveLimiter] = {}
_lock = threading.Lock()


def limiter_for(endpoint: JudgeEndpoint) -> AdaptiveLimiter:
    """The process's limiter of the endpoint, made on first use with its limits."""
    with _lock:
        limiter = _limiters.get(endpoint.key)
        if limiter is None:
            limiter = AdaptiveLimiter(
                endpoint.max_concurrency, tokens_per_minute=endpoint.tokens_per_minute,
                budget_usd=endpoint.budget_usd,
            )  # fmt: skip
            _limiters[endpoint.key] = limiter
        return limiter


def all_limiters() -> dict[str, LimiterStats]:
    """Every endpoint's limiter as it stands (for the UI and the server's status)."""
    with _lock:
        return {key: limiter.stats() for key, limiter in _limiters.items()}
