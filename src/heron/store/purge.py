"""The purge store port: what `heron gc` finds deleted and removes for good."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from heron.entities.deleted import Deleted


class PurgeStore(Protocol):
    def find_deleted(
        self,
        *,
        deleted_before: int | None = None,
        experiment_ids: Sequence[str] = (),
        run_ids: Sequence[str] = (),
    ) -> list[Deleted]:
        """The deleted runs, logged models and experiments, runs and models first.

        `deleted_before` (ms since epoch) keeps only what was deleted before then. With
        `experiment_ids` or `run_ids`, only those experiments (with everything in them) and
        runs; each must exist and be deleted, else InvalidParameter / NotFound."""
        ...

    def purge(self, item: Deleted) -> None:
        """Removes the row of `item` and everything that hangs off it (params, metrics, tags,
        inputs...). A no-op if it is already gone."""
        ...
