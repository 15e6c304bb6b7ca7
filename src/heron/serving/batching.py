"""Adaptive batching: requests that arrive while the model is busy are scored together.

Worker threads take jobs off one queue. A thread that finds the queue empty scores the next
job at once (no waiting for company); while it predicts, the requests that arrive queue up,
and the next take gathers every compatible one, up to `max_batch_rows` rows (rows, not
requests: a 500-row request weighs 500). So batches grow with the load and shrink to one
request when it is light.

A request is admitted only if it can be answered within `max_latency_s`: the time a batch
takes is learnt as a fixed cost plus a cost per row (a least-squares fit over recent
batches, older ones fading), and the wait for the rows ahead of the request is estimated
from it. When the bound cannot be met the request is refused (`Overloaded`: the server
answers 429 with `Retry-After`) rather than queued to time out.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from heron.serving.scoring import Job, error_outcome

_log = logging.getLogger("heron.serving")


class Overloaded(Exception):
    """The latency bound cannot be met; retry after `retry_after_s` seconds."""

    def __init__(self, retry_after_s: int, estimate_s: float) -> None:
        super().__init__(f"estimated {estimate_s:.3f} s")
        self.retry_after_s = retry_after_s
        self.estimate_s = estimate_s


class CostModel:
    """Seconds a batch of `rows` rows takes: fixed + per_row * rows, fitted on the batches
    seen (each new one weighs `1 - decay` of the total)."""

    def __init__(self, decay: float = 0.9) -> None:
        self.decay = decay
        self._n = self._x = self._y = self._xx = self._xy = 0.0

    def observe(self, rows: int, seconds: float) -> None:
        d = self.decay
        self._n = d * self._n + 1
        self._x = d * self._x + rows
        self._y = d * self._y + seconds
        self._xx = d * self._xx + rows * rows
        self._xy = d * self._xy + rows * seconds

    @property
    def known(self) -> bool:
        return self._n > 0

    def coefficients(self) -> tuple[float, float]:
        """(fixed seconds, seconds per row), both at least 0."""
        if not self._n:
            return 0.0, 0.0
        mean_x, mean_y = self._x / self._n, self._y / self._n
        variance = self._xx / self._n - mean_x * mean_x
        if variance > 1e-9:
            per_row = max(0.0, (self._xy / self._n - mean_x * mean_y) / variance)
            fixed = max(0.0, mean_y - per_row * mean_x)
        else:  # one batch size so far: all of it is fixed cost, a safe over-estimate
            fixed, per_row = mean_y, 0.0
        return fixed, per_row

    def seconds(self, rows: int, max_batch_rows: int) -> float:
        fixed, per_row = self.coefficients()
        batches = max(1, math.ceil(rows / max_batch_rows))
        return batches * fixed + per_row * rows


BatchObserver = Callable[[int, float, Sequence[float]], None]


class Batcher:
    """Worker threads scoring queued jobs with `score(jobs)` (one key per call).

    Args:
        score: scores a list of compatible jobs, calling each job's `done`.
        threads: worker threads (1 for a batching model: one predict at a time gathers
            the most rows; more for models that wait on I/O, such as agents).
        batching: take every compatible queued job (True) or one job at a time.
        max_batch_rows: the most rows in one call (a bigger request goes alone).
        max_latency_s: the bound on queue wait plus scoring; None for no bound.
        observe: called after each batch with (rows, seconds, queue waits).
    """

    def __init__(
        self,
        score: Callable[[Sequence[Job]], None],
        *,
        threads: int = 1,
        batching: bool = True,
        max_batch_rows: int = 1024,
        max_latency_s: float | None = None,
        observe: BatchObserver | None = None,
    ) -> None:
        self._score = score
        self._batching = batching
        self.max_batch_rows = max(1, max_batch_rows)
        self.max_latency_s = max_latency_s
        self._observe = observe
        self._queue: deque[Job] = deque()
        self._queued_rows = 0
        self._busy: dict[int, tuple[float, float]] = {}  # thread -> (started, estimate)
        self._cond = threading.Condition()
        self._closed = False
        self.cost = CostModel()
        self._threads = [
            threading.Thread(target=self._work, name=f"heron-scoring-{i}", daemon=True)
            for i in range(max(1, threads))
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, job: Job) -> None:
        """Queues `job`.

        Raises:
            Overloaded: the job would not be answered within the latency bound.
        """
        with self._cond:
            if self._closed:
                raise Overloaded(1, 0.0)
            if self.max_latency_s is not None and self.cost.known:
                estimate = self._estimate(job.rows)
                if estimate > self.max_latency_s:
                    raise Overloaded(max(1, math.ceil(estimate)), estimate)
            self._queue.append(job)
            self._queued_rows += job.rows
            self._cond.notify()

    def _estimate(self, rows: int) -> float:
        """Seconds until a new job of `rows` rows would be answered (lock held)."""
        now = time.perf_counter()
        workers = len(self._threads)
        free_at = sorted(
            [max(0.0, started + estimate - now) for started, estimate in self._busy.values()]
            + [0.0] * (workers - len(self._busy))
        )
        ahead = self.cost.seconds(self._queued_rows + rows, self.max_batch_rows)
        if self._batching:
            return free_at[0] + ahead
        return free_at[0] + ahead / workers

    def close(self, timeout_s: float = 30.0) -> None:
        """Scores what is queued, then stops the threads."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def queued_rows(self) -> int:
        return self._queued_rows

    def _take(self) -> list[Job] | None:
        """The next batch: the first job and every queued job with its key (lock held)."""
        while not self._queue:
            if self._closed:
                return None
            self._cond.wait()
        first = self._queue.popleft()
        batch = [first]
        rows = first.rows
        if self._batching and first.key is not None:
            kept: deque[Job] = deque()
            while self._queue:
                job = self._queue.popleft()
                if job.key == first.key and rows + job.rows <= self.max_batch_rows:
                    batch.append(job)
                    rows += job.rows
                else:
                    kept.append(job)
            self._queue = kept
        self._queued_rows -= rows
        return batch

    def _work(self) -> None:
        me = threading.get_ident()
        while True:
            with self._cond:
                batch = self._take()
                if batch is None:
                    return
                live = [job for job in batch if not job.cancelled]
                rows = sum(job.rows for job in live)
                started = time.perf_counter()
                self._busy[me] = (started, self.cost.seconds(rows, self.max_batch_rows))
            if live:
                try:
                    self._score(live)
                except Exception:  # a bug in scoring: answer, and keep the thread alive
                    _log.exception("Scoring a batch failed")
                    failed = error_outcome("INTERNAL_ERROR", "Scoring failed; see the log", 500)
                    for job in live:
                        job.done(failed)
            seconds = time.perf_counter() - started
            with self._cond:
                del self._busy[me]
                if live:
                    self.cost.observe(rows, seconds)
            if live and self._observe is not None:
                self._observe(rows, seconds, [started - job.arrived for job in live])
