"""Threads that work off a durable queue in the database: each takes one piece of work at a
time, does it, and looks again; with nothing due it waits a little (one indexed read a look).
Webhook deliveries and deployment job tasks both run on it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")
_log = logging.getLogger(__name__)


class PollingWorkers(Generic[T]):
    """`threads` threads named `name-N`, each calling `take()` (a claim: the work, or None
    when nothing is due) and then `do(work)`. `close()` lets the work in flight finish."""

    def __init__(
        self,
        name: str,
        take: Callable[[], T | None],
        do: Callable[[T], None],
        *,
        threads: int = 1,
        poll_interval_s: float = 0.5,
    ) -> None:
        self._name = name
        self._take = take
        self._do = do
        self._count = threads
        self._poll_interval_s = poll_interval_s
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    @property
    def stopping(self) -> threading.Event:
        """Set once `close()` was called: long work may look at it to leave early."""
        return self._stop

    def start(self) -> None:
        if self._threads:
            return
        for n in range(self._count):
            thread = threading.Thread(target=self._work, name=f"{self._name}-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                work = self._take()
            except Exception:  # the database is away for a moment: try again later
                _log.exception("Could not read the %s queue", self._name)
                work = None
            if work is None:
                self._stop.wait(self._poll_interval_s)
                continue
            try:
                self._do(work)
            except Exception:  # a bug: the claim's lease runs out and the work is tried again
                _log.exception("%s failed", self._name)
