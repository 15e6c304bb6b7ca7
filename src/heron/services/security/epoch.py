"""The security epoch: caches of credentials and grants, dropped when any process changes them."""

from __future__ import annotations

import threading
from collections.abc import Callable

from heron.store.security import SecurityStateStore


class EpochWatch:
    """`refresh()` reads the epoch (one primary-key read) at the start of each request and
    clears every registered cache when another process (or this one) changed security."""

    def __init__(self, state: SecurityStateStore) -> None:
        self._state = state
        self._clears: list[Callable[[], None]] = []
        self._epoch = -1
        self._lock = threading.Lock()

    def register(self, clear: Callable[[], None]) -> None:
        self._clears.append(clear)

    def refresh(self) -> None:
        epoch = self._state.epoch()
        if epoch == self._epoch:
            return
        with self._lock:
            for clear in self._clears:
                clear()
            self._epoch = epoch
