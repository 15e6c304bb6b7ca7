"""ChangeWatch: what a server process caches, dropped on its next request after any process
changed it (a shared counter moved: the security epoch, the workspaces' version)."""

from __future__ import annotations

import threading
from collections.abc import Callable


class ChangeWatch:
    """`refresh()` reads the counter (`read`: a 16-byte file read on SQLite, a primary-key read
    on PostgreSQL) at the start of each request and clears every registered cache when it
    moved since the last request."""

    def __init__(self, read: Callable[[], int]) -> None:
        self._read = read
        self._clears: list[Callable[[], None]] = []
        self._seen = -1
        self._lock = threading.Lock()

    def register(self, clear: Callable[[], None]) -> None:
        self._clears.append(clear)

    def refresh(self) -> None:
        number = self._read()
        if number == self._seen:
            return
        with self._lock:
            for clear in self._clears:
                clear()
            self._seen = number
