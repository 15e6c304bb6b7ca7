"""The non-blocking trace exporter: finished traces wait in a bounded queue and a background
thread sends them in batches (one request for many traces).

Nothing is dropped silently: when the queue is full the traced code waits (up to
`block_timeout_s`), and only then is the trace counted as lost, with a warning. A failed send
(server down, bad answer) is logged and counted, never raised into the traced code."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from heron.entities.trace import Span

log = logging.getLogger("heron.tracing")

Sender = Callable[[str, Sequence[Span]], object]  # (experiment id, spans of whole traces)


class Finished(Protocol):
    """A finished trace; its spans are built on the exporter thread, off the app's path."""

    def heron_spans(self) -> list[Span]: ...


@dataclass
class ExportStats:
    """How many traces went out, and how many were lost and why."""

    exported: int = 0
    dropped_queue_full: int = 0
    failed: int = 0
    last_error: str | None = None

    @property
    def lost(self) -> int:
        return self.dropped_queue_full + self.failed


@dataclass
class _Batch:
    sender: Sender
    experiment_id: str
    spans: list[Span] = field(default_factory=list)


class TraceExporter:
    def __init__(
        self,
        *,
        max_queue_traces: int = 10_000,
        max_batch_traces: int = 500,
        block_timeout_s: float = 30.0,
    ) -> None:
        self._queue: queue.Queue[tuple[Sender, str, Finished]] = queue.Queue(max_queue_traces)
        self.max_batch_traces = max_batch_traces
        self.block_timeout_s = block_timeout_s
        self.stats = ExportStats()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._last_warning = 0.0

    def submit(self, sender: Sender, experiment_id: str, finished: Finished) -> None:
        """Queues one finished trace; waits while the queue is full, then counts it lost."""
        self._ensure_thread()
        try:
            self._queue.put((sender, experiment_id, finished), timeout=self.block_timeout_s)
        except queue.Full:
            with self._lock:
                self.stats.dropped_queue_full += 1
            self._warn(f"the export queue stayed full for {self.block_timeout_s} s")

    def resize(self, max_queue_traces: int) -> None:
        """A new bound for the queue (traces already queued stay)."""
        self._queue.maxsize = max_queue_traces

    def flush(self, timeout_s: float | None = None) -> bool:
        """Waits until every queued trace is sent (or lost). False when `timeout_s` ran out."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while self._queue.unfinished_tasks:
            if deadline is not None and time.monotonic() > deadline:
                return False
            time.sleep(0.002)
        return True

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="heron-trace-exporter", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            items = [first]
            while len(items) < self.max_batch_traces:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self._send(items)
            finally:
                for _ in items:
                    self._queue.task_done()

    def _send(self, items: list[tuple[Sender, str, Finished]]) -> None:
        batches: dict[tuple[int, str], _Batch] = defaultdict(lambda: _Batch(items[0][0], ""))
        counts: dict[tuple[int, str], int] = defaultdict(int)
        for sender, experiment_id, finished in items:
            key = (id(sender), experiment_id)
            try:
                spans = finished.heron_spans()
            except Exception as exc:  # a span that cannot be converted loses its trace only
                self._count_failed(1, exc)
                continue
            batch = batches[key]
            batch.sender, batch.experiment_id = sender, experiment_id
            batch.spans.extend(spans)
            counts[key] += 1
        for key, batch in batches.items():
            try:
                batch.sender(batch.experiment_id, batch.spans)
            except Exception as exc:  # tracing never breaks the app: count and warn
                self._count_failed(counts[key], exc)
            else:
                with self._lock:
                    self.stats.exported += counts[key]

    def _count_failed(self, traces: int, exc: Exception) -> None:
        with self._lock:
            self.stats.failed += traces
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
        self._warn(f"{traces} trace(s) could not be sent: {exc}")

    def _warn(self, message: str) -> None:
        now = time.monotonic()
        if now - self._last_warning > 5.0:  # one line every few seconds, counts in stats
            self._last_warning = now
            log.warning("Heron tracing: %s (lost so far: %d)", message, self.stats.lost)
