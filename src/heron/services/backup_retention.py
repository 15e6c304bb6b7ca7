"""Retention of backups (`--keep 7d` or `--keep 10`): old backups go, then the blobs that no
remaining backup refers to. The newest backup is always kept."""

from __future__ import annotations

from dataclasses import dataclass

from heron.clock import duration_ms
from heron.errors import InvalidParameter
from heron.services.backup_manifest import (
    BackupManifest,
    backup_dir,
    backup_ids,
    blob_path,
    list_backups,
)
from heron.store.artifacts.repository import ArtifactRepository
from heron.store.artifacts.walk import walk_files


@dataclass(frozen=True, slots=True)
class Retention:
    """Keep backups younger than `max_age_ms`, or the newest `count`."""

    max_age_ms: int | None = None
    count: int | None = None

    def keeps(self, index: int, manifest: BackupManifest, now_ms: int) -> bool:
        """Whether the backup at `index` (0 = the newest) stays."""
        if self.count is not None:
            return index < self.count
        return self.max_age_ms is not None and now_ms - manifest.snapshot_ms <= self.max_age_ms

    @classmethod
    def parse(cls, text: str) -> Retention:
        """`7d`, `12h`, `1d12h` (an age) or `10` (how many).

        Raises:
            InvalidParameter: neither.
        """
        compact = text.strip()
        if compact.isdigit() and int(compact) >= 1:
            return cls(count=int(compact))
        age = duration_ms(compact)
        if age is None:
            raise InvalidParameter(
                f"--keep {text!r}: give an age like 7d, 12h, 1d12h, or a number of backups"
            )
        return cls(max_age_ms=age)


@dataclass(frozen=True, slots=True)
class Pruned:
    backups: tuple[str, ...]
    blobs: int


def prune_backups(destination: ArtifactRepository, keep: Retention, *, now_ms: int) -> Pruned:
    """Removes the backups `keep` lets go, then the unreferenced blobs. Run it when no backup
    is being written to `destination` (a blob it has copied is in no manifest yet)."""
    complete = list_backups(destination)  # newest first
    if not complete:
        return Pruned(backups=(), blobs=0)
    kept = [complete[0], *(m for i, m in enumerate(complete) if i and keep.keeps(i, m, now_ms))]
    kept_ids = {m.backup_id for m in kept}
    complete_ids = {m.backup_id for m in complete}
    # Incomplete backups older than the newest complete one were abandoned: they go too.
    newest = complete[0].backup_id
    removed = tuple(
        backup_id
        for backup_id in backup_ids(destination)
        if backup_id not in kept_ids and (backup_id in complete_ids or backup_id < newest)
    )
    for backup_id in removed:
        destination.delete(backup_dir(backup_id))
    referenced = {blob_path(f.sha256) for m in kept for f in m.artifacts}
    blobs = 0
    for info in walk_files(destination, "blobs"):
        if info.path not in referenced:
            destination.delete(info.path)
            blobs += 1
    return Pruned(backups=removed, blobs=blobs)
