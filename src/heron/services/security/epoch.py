"""The security epoch: caches of credentials and grants, dropped when any process changes them."""

from __future__ import annotations

from heron.services.change_watch import ChangeWatch
from heron.store.security import SecurityStateStore


class EpochWatch(ChangeWatch):
    """`refresh()` reads the epoch at the start of each request and clears every registered
    cache when another process (or this one) changed security."""

    def __init__(self, state: SecurityStateStore) -> None:
        super().__init__(state.epoch)
