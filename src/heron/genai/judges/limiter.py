"""One adaptive limiter per judge endpoint, shared by everything in the process that calls it
(offline evaluations, production scoring, the UI): how many calls may be in flight, how many
tokens a minute, and how many dollars in all.

The concurrency limit adapts as TCP's window does: each success raises it by about one per
round of calls (up to the endpoint's maximum), a 429 halves it (at most once a second, so
one burst of 429s counts once) and pauses new calls for the Retry-After the server gave.

With a shared bucket (`share_limits`: the tracking server's, or the local database's), the
minute's tokens and a 429's pause are shared by every process calling the endpoint there:
each merges what it used into the bucket about once a second (at once after a 429) and paces
itself by what all of them used. The concurrency limit and the budget stay the process's."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Protocol

from heron.entities.evaluation import SharedLimits
from heron.errors import HeronError
from heron.genai.judges.endpoint import JudgeEndpoint

_WINDOW_S = 60.0
SYNC_S = 1.0  # how often a process merges its use into the shared bucket
MAX_PAUSE_MS = 60_000

log = logging.getLogger("heron.genai")


class SharedBucket(Protocol):
    def merge_limits(self, key: str, tokens: int, pause_ms: int = 0) -> SharedLimits: ...


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
    shared: bool = False  # paced by a bucket shared with other processes
    paused_s: float = 0.0  # how long new calls still wait after a 429


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
        self._bucket: SharedBucket | None = None
        self._bucket_key = ""
        self._pending_tokens = 0  # used since the last merge
        self._pending_pause_ms = 0
        self._shared_tokens = 0  # every process's, in the shared minute, as last merged
        self._shared_until = 0.0  # when that minute ends
        self._next_merge = 0.0

    def share(self, bucket: SharedBucket | None, endpoint_key: str) -> None:
        """Paces this limiter by `bucket` too (None: by this process alone)."""
        with self._cond:
            self._bucket = bucket
            self._bucket_key = hashlib.sha256(endpoint_key.encode()).hexdigest()
            self._next_merge = 0.0

    @contextlib.contextmanager
    def slot(self, estimated_tokens: int = 0) -> Iterator[None]:
        """Holds one call's place: waits for a free slot, the end of a pause, and room in the
        minute's tokens. Raises BudgetExceeded when the budget is spent."""
        with self._cond:
            while True:
                self._check_budget()
                self._merge()
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
                self._pending_tokens += tokens
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
                pause_ms = int(min(retry_after_s, 60.0) * 1000)
                self._pending_pause_ms = max(self._pending_pause_ms, pause_ms)
                self._next_merge = 0.0  # tell the other processes at once
                self._merge()

    def stats(self) -> LimiterStats:
        with self._cond:
            self._expire(self._clock())
            now = self._clock()
            return LimiterStats(
                limit=int(self._limit), max_concurrency=self.max_concurrency,
                in_flight=self._in_flight, calls=self._calls, throttled=self._throttled,
                tokens_last_minute=self._shared_used(now) if self._bucket else self._window_tokens,
                spent_usd=self._spent, shared=self._bucket is not None,
                paused_s=max(0.0, self._paused_until - now),
            )  # fmt: skip

    def wait_s(self, estimated_tokens: int = 0) -> float:
        """How long a call of about `estimated_tokens` would wait now (0: it may start)."""
        with self._cond:
            return max(0.0, self._wait_s(estimated_tokens))

    def merge(self) -> None:
        """Merges this process's use into the shared bucket now (it is done about once a
        second on its own)."""
        with self._cond:
            self._next_merge = 0.0
            self._merge()

    def _merge(self) -> None:
        """Merges this process's use into the shared bucket and reads back everyone's, when
        a second has passed (or a 429 came). A bucket that fails is given up: the process
        paces itself alone from then on."""
        now = self._clock()
        if self._bucket is None or now < self._next_merge:
            return
        try:
            found = self._bucket.merge_limits(
                self._bucket_key, self._pending_tokens, self._pending_pause_ms
            )
        except Exception as exc:
            log.warning("Heron judge limiter: the shared bucket failed (%s); pacing alone", exc)
            self._bucket = None
            return
        self._pending_tokens = 0
        self._pending_pause_ms = 0
        self._shared_tokens = found.window_tokens
        self._shared_until = now + found.window_left_ms / 1000
        self._paused_until = max(self._paused_until, now + found.pause_left_ms / 1000)
        self._next_merge = now + SYNC_S

    def _shared_used(self, now: float) -> int:
        """Tokens every process used in the shared minute, with this one's not merged yet."""
        return (self._shared_tokens if now < self._shared_until else 0) + self._pending_tokens

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
        if self._bucket is not None:
            used = self._shared_used(now)
            if used == 0 or used + estimated_tokens <= self.tokens_per_minute:
                return 0.0
            # until the minute ends, or the next merge tells what the others used since
            until = self._next_merge if now >= self._shared_until else self._shared_until
            return max(0.01, min(self._next_merge, until) - now)
        self._expire(now)
        if not self._window or self._window_tokens + estimated_tokens <= self.tokens_per_minute:
            return 0.0
        return max(0.01, self._window[0][0] + _WINDOW_S - now)

    def _expire(self, now: float) -> None:
        while self._window and self._window[0][0] <= now - _WINDOW_S:
            self._window_tokens -= self._window.popleft()[1]


_limiters: dict[str, AdaptiveLimiter] = {}
_lock = threading.Lock()
_bucket: SharedBucket | None = None


def share_limits(bucket: SharedBucket | None) -> None:
    """Every endpoint's limiter in this process (and those made later) paces itself by
    `bucket` as well: the tracking server's (or local database's) shared token buckets. An
    evaluation and the scorers' monitoring call it with their tracking client's."""
    global _bucket
    with _lock:
        if bucket is _bucket:
            return
        _bucket = bucket
        for key, limiter in _limiters.items():
            limiter.share(bucket, key)


def limiter_for(endpoint: JudgeEndpoint) -> AdaptiveLimiter:
    """The process's limiter of the endpoint, made on first use with its limits."""
    with _lock:
        limiter = _limiters.get(endpoint.key)
        if limiter is None:
            limiter = AdaptiveLimiter(
                endpoint.max_concurrency, tokens_per_minute=endpoint.tokens_per_minute,
                budget_usd=endpoint.budget_usd,
            )  # fmt: skip
            if _bucket is not None:
                limiter.share(_bucket, endpoint.key)
            _limiters[endpoint.key] = limiter
        return limiter


def all_limiters() -> dict[str, LimiterStats]:
    """Every endpoint's limiter as it stands (for the UI and the server's status)."""
    with _lock:
        return {key: limiter.stats() for key, limiter in _limiters.items()}
