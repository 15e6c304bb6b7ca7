"""`heron backup verify` and `heron backup restore`: every file checked against its manifest."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from heron.errors import InvalidParameter, NotFound
from heron.services.backup_manifest import (
    BackupManifest,
    Hashing,
    ManifestFile,
    backup_dir,
    blob_path,
)
from heron.store.artifacts.repository import ArtifactRepository
from heron.store.sql.snapshot import check_empty, restore_database

Progress = Callable[[int], None]
_WORKERS = 8


class Corrupt(InvalidParameter):
    """A file of a backup is missing or not what its manifest says."""


@dataclass(frozen=True, slots=True)
class Verified:
    backup_id: str
    checked_files: int
    checked_bytes: int
    problems: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_backup(
    destination: ArtifactRepository, manifest: BackupManifest, *, progress: Progress | None = None
) -> Verified:
    """Reads back the snapshot and every blob the manifest names, checking size and SHA-256."""
    problems: list[str] = []
    files = [(f"{backup_dir(manifest.backup_id)}/{manifest.database.path}", manifest.database)]
    seen: set[str] = set()
    for entry in manifest.artifacts:
        if entry.sha256 not in seen:
            seen.add(entry.sha256)
            files.append((blob_path(entry.sha256), entry))

    def check(item: tuple[str, ManifestFile]) -> str | None:
        path, entry = item
        try:
            for _chunk in _checked(destination.read(path), entry, path):
                pass
        except (Corrupt, NotFound) as exc:
            return exc.message
        finally:
            if progress is not None:
                progress(entry.size)
        return None

    with ThreadPoolExecutor(_WORKERS, thread_name_prefix="heron-verify") as pool:
        problems = [p for p in pool.map(check, files) if p is not None]
    return Verified(
        backup_id=manifest.backup_id,
        checked_files=len(files),
        checked_bytes=sum(entry.size for _, entry in files),
        problems=tuple(problems),
    )


def _checked(chunks: Iterable[bytes], entry: ManifestFile, path: str) -> Iterator[bytes]:
    """The chunks of `path`; Corrupt at the end when they are not `entry`'s content (the
    write they feed then fails, so nothing corrupt is committed)."""
    hashing = Hashing(chunks)
    yield from hashing
    if hashing.size != entry.size or hashing.sha256 != entry.sha256:
        raise Corrupt(
            f"{path}: {hashing.size} bytes with SHA-256 {hashing.sha256[:12]}..., the manifest "
            f"says {entry.size} bytes with {entry.sha256[:12]}..."
        )


def restore_backup(
    destination: ArtifactRepository,
    manifest: BackupManifest,
    *,
    database_uri: str,
    artifacts: ArtifactRepository | None,
    replace: bool = False,
    progress: Progress | None = None,
) -> None:
    """Brings the database at `database_uri` and the artifact root `artifacts` back to the
    backup's state. Both must be empty unless `replace` (then what they hold goes first).

    Raises:
        InvalidParameter: a target is not empty, or the backup is for another database kind.
        Corrupt: a file of the backup does not match its manifest (nothing is committed
            from it).
    """
    if not replace:
        check_empty(database_uri)
        if artifacts is not None and artifacts.list("", max_results=1).items:
            raise InvalidParameter(
                f"The target artifact root {artifacts!r} is not empty: restore into an empty "
                "one, or pass --force to replace what it holds"
            )
    with tempfile.TemporaryDirectory(prefix="heron-restore-") as tmp:
        local = Path(tmp) / manifest.database.path
        path = f"{backup_dir(manifest.backup_id)}/{manifest.database.path}"
        with open(local, "wb") as out:
            for chunk in _checked(destination.read(path), manifest.database, path):
                out.write(chunk)
        restore_database(local, manifest.dialect, database_uri, replace=replace)
    if artifacts is None:
        return
    if replace:
        for info in artifacts.list("", max_results=100_000).items:
            artifacts.delete(info.path)

    def put(entry: ManifestFile) -> None:
        blob = blob_path(entry.sha256)
        artifacts.write(entry.path, _checked(destination.read(blob), entry, blob))
        if progress is not None:
            progress(entry.size)

    with ThreadPoolExecutor(_WORKERS, thread_name_prefix="heron-restore") as pool:
        for _ in pool.map(put, manifest.artifacts):
            pass
