"""Continuous replication of the artifact store to a second one (a folder or a bucket).

Each pass lists both trees and copies every file the replica lacks or holds at another
size, as stored (encrypted files stay encrypted). A pass that ends records, in the replica's
`_heron_replication.json`, the time it began: every file written before that is in the
replica, so the lag is now minus that time. Files removed from the source stay in the
replica unless `mirror_deletes` (a replica is for disasters, a deletion may be one)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson

from heron.clock import now_ms
from heron.errors import NotFound
from heron.store.artifacts.repository import ArtifactRepository
from heron.store.artifacts.walk import walk_files

STATE = "_heron_replication.json"


@dataclass(frozen=True, slots=True)
class ReplicationState:
    synced_until_ms: int  # every file written before this is in the replica
    finished_ms: int
    files: int  # in the replica after the pass
    copied_files: int
    copied_bytes: int
    removed_files: int = 0

    def lag_s(self, now: int) -> float:
        return max(now - self.synced_until_ms, 0) / 1000


def replicate_once(
    source: ArtifactRepository, replica: ArtifactRepository, *, mirror_deletes: bool = False
) -> ReplicationState:
    """One pass; returns (and records in the replica) its state."""
    started = now_ms()
    there = {f.path: f.file_size for f in walk_files(replica) if f.path != STATE}
    copied = copied_bytes = files = 0
    seen: set[str] = set()
    for info in walk_files(source):
        seen.add(info.path)
        files += 1
        if there.get(info.path) == info.file_size:
            continue
        try:
            stream = source.read(info.path)
        except NotFound:
            files -= 1
            continue  # deleted since it was listed
        written = replica.write(info.path, stream)
        copied += 1
        copied_bytes += written.file_size or 0
    removed = 0
    if mirror_deletes:
        for path in there.keys() - seen:
            replica.delete(path)
            removed += 1
    state = ReplicationState(
        synced_until_ms=started,
        finished_ms=now_ms(),
        files=files,
        copied_files=copied,
        copied_bytes=copied_bytes,
        removed_files=removed,
    )
    replica.write(STATE, [orjson.dumps(dataclasses.asdict(state))])
    return state


def read_state(replica: ArtifactRepository) -> ReplicationState | None:
    """The state the last finished pass recorded, or None before the first."""
    try:
        doc = orjson.loads(b"".join(replica.read(STATE)))
        return ReplicationState(**{k: int(v) for k, v in doc.items()})
    except (NotFound, orjson.JSONDecodeError, TypeError, ValueError):
        return None


def replicate_forever(
    source: ArtifactRepository,
    replica: ArtifactRepository,
    *,
    every_s: float,
    on_pass: Callable[[ReplicationState], None],
    mirror_deletes: bool = False,
    passes: int | None = None,
) -> None:
    """Passes one after another, at least `every_s` apart, until stopped (or `passes`)."""
    done = 0
    while passes is None or done < passes:
        began = time.monotonic()
        on_pass(replicate_once(source, replica, mirror_deletes=mirror_deletes))
        done += 1
        if passes is None or done < passes:
            time.sleep(max(every_s - (time.monotonic() - began), 0))
