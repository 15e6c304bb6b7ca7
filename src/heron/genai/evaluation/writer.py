"""Writes an evaluation's traces and their assessments behind the rows, off the scoring path:
a few threads each send a batch of finished traces in one request, then the batch's scores
(a score needs its trace stored first)."""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from heron.entities.assessment import Assessment
from heron.entities.trace import Span
from heron.tracing.tracer import KeptTrace

log = logging.getLogger("heron.genai")

_BATCH = 64


@dataclass
class Written:
    """What went to the store, and what failed (the first reasons kept)."""

    traces: int = 0
    assessments: int = 0
    failures: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Item:
    kept: KeptTrace | None
    spans: Sequence[Span]
    assessments: Sequence[Assessment]


class EvalWriter:
    """`submit` a row's kept trace (or None for a trace already stored) and its assessments;
    `close` waits until all are written."""

    def __init__(self, create_assessment: Callable[[Assessment], object], threads: int) -> None:
        self._create = create_assessment
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._lock = threading.Lock()
        self.written = Written()
        self._threads = [
            threading.Thread(target=self._work, name=f"heron-eval-writer-{i}", daemon=True)
            for i in range(max(1, threads))
        ]
        for thread in self._threads:
            thread.start()

    def submit(
        self, kept: KeptTrace | None, spans: Sequence[Span], assessments: Sequence[Assessment]
    ) -> None:
        self._queue.put(_Item(kept, spans, assessments))

    def close(self) -> Written:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        return self.written

    def _work(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            stop = False
            while len(batch) < _BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._write(batch)
            if stop:
                return

    def _write(self, batch: list[_Item]) -> None:
        stored = self._send_traces([i for i in batch if i.kept is not None])
        for item in batch:
            if item.kept is not None and id(item) not in stored:
                continue  # its trace failed: the failure is counted once, for the trace
            for assessment in item.assessments:
                try:
                    self._create(assessment)
                except Exception as exc:
                    self._fail(f"score {assessment.name!r} on {assessment.trace_id}: {exc}")
                else:
                    with self._lock:
                        self.written.assessments += 1

    def _send_traces(self, items: list[_Item]) -> set[int]:
        """Sends the traces of one destination in one request; the ids of the items stored."""
        groups: dict[tuple[int, str], list[_Item]] = defaultdict(list)
        for item in items:
            assert item.kept is not None  # noqa: S101 (filtered by the caller)
            groups[(id(item.kept.sender), item.kept.experiment_id)].append(item)
        stored: set[int] = set()
        for group in groups.values():
            kept = group[0].kept
            assert kept is not None  # noqa: S101
            try:
                kept.sender(kept.experiment_id, [s for i in group for s in i.spans])
            except Exception as exc:
                self._fail(f"{len(group)} trace(s) not stored: {exc}", len(group))
                continue
            stored.update(id(i) for i in group)
            with self._lock:
                self.written.traces += len(group)
        return stored

    def _fail(self, reason: str, count: int = 1) -> None:
        log.warning("Heron evaluation: %s", reason)
        with self._lock:
            self.written.failures += count
            if len(self.written.errors) < 10:
                self.written.errors.append(reason)
