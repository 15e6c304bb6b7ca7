"""`heron backup create` and retention: a consistent copy of the database and the artifacts.

The database is copied first, online (`store.sql.snapshot`); then every artifact file under
the artifact root, which holds at least every file the snapshot refers to (artifacts are
written before the rows that name them are acknowledged). Artifact contents go to the
destination's content-addressed `blobs/`, so a backup copies only what no other backup has."""

from __future__ import annotations

import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from heron.clock import now_ms
from heron.entities import FileInfo
from heron.errors import InvalidParameter, NotFound
from heron.services.backup_manifest import (
    MANIFEST,
    BackupManifest,
    Hashing,
    ManifestFile,
    backup_dir,
    blob_path,
    dump_manifest,
    list_backups,
)
from heron.store.artifacts.repository import ArtifactRepository
from heron.store.artifacts.walk import walk_files
from heron.store.sql.database import Database
from heron.store.sql.migrate import current_revision
from heron.store.sql.snapshot import dialect_of, snapshot_database

# Files up to this size are read once, into memory, to hash and copy; bigger ones are hashed
# as they stream and read a second time only when the destination lacks them.
_IN_MEMORY_BYTES = 8 << 20
_COPIERS = 8

Progress = Callable[[int], None]  # called with the bytes of each artifact file handled


@dataclass(frozen=True, slots=True)
class BackupSource:
    database_uri: str
    artifacts: ArtifactRepository | None  # the server's artifact root (None: no artifacts)


def new_backup_id(at_ms: int) -> str:
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(at_ms // 1000))
    return f"{stamp}.{at_ms % 1000:03d}Z-{secrets.token_hex(3)}"  # sorts as it was taken


def create_backup(
    source: BackupSource,
    destination: ArtifactRepository,
    *,
    on_listed: Progress | None = None,
    progress: Progress | None = None,
) -> BackupManifest:
    """Takes a backup of `source` into `destination` and returns its manifest (written last,
    so an interrupted backup is never listed). `on_listed` gets the artifact bytes to copy
    once they are listed (after the snapshot: a file listed before it could miss one the
    snapshot names), `progress` the bytes of each file done."""
    dialect = dialect_of(source.database_uri)
    snapshot_ms = now_ms()
    backup_id = new_backup_id(snapshot_ms)
    revision = _schema_revision(source.database_uri)
    database = _copy_database(source.database_uri, dialect, destination, backup_id)
    known = {f.sha256 for m in list_backups(destination) for f in m.artifacts}
    copier = _ArtifactCopier(destination, known, progress)
    entries: list[ManifestFile] = []
    if source.artifacts is not None:
        files = list(walk_files(source.artifacts))
        if on_listed is not None:
            on_listed(sum(f.file_size or 0 for f in files))
        entries = copier.copy_all(source.artifacts, files)
    manifest = BackupManifest(
        backup_id=backup_id,
        snapshot_ms=snapshot_ms,
        finished_ms=now_ms(),
        heron_version=_heron_version(),
        dialect=dialect,
        schema_revision=revision,
        database=database,
        artifacts=tuple(sorted(entries, key=lambda f: f.path)),
        copied_bytes=copier.copied_bytes,
    )
    destination.write(f"{backup_dir(backup_id)}/{MANIFEST}", [dump_manifest(manifest)])
    return manifest


def _schema_revision(uri: str) -> str | None:
    database = Database(uri)
    try:
        return current_revision(database)
    finally:
        database.dispose()


def _heron_version() -> str:
    try:
        return metadata.version("heron")
    except metadata.PackageNotFoundError:
        return "unknown"


def _copy_database(
    uri: str, dialect: str, destination: ArtifactRepository, backup_id: str
) -> ManifestFile:
    name = "database.sqlite" if dialect == "sqlite" else "database.pgdump"
    with tempfile.TemporaryDirectory(prefix="heron-backup-") as tmp:
        local = Path(tmp) / name
        snapshot_database(uri, local)
        with open(local, "rb") as file:
            hashing = Hashing(iter(lambda: file.read(1 << 20), b""))
            destination.write(f"{backup_dir(backup_id)}/{name}", hashing)
    return ManifestFile(path=name, size=hashing.size, sha256=hashing.sha256)


class _ArtifactCopier:
    """Hashes each artifact file and copies into `blobs/` the contents not there yet."""

    def __init__(
        self, destination: ArtifactRepository, known: set[str], progress: Progress | None
    ) -> None:
        self._destination = destination
        self._known = known
        self._progress = progress
        self._lock = threading.Lock()
        self.copied_bytes = 0

    def copy_all(self, source: ArtifactRepository, files: Iterable[FileInfo]) -> list[ManifestFile]:
        entries: list[ManifestFile] = []
        with ThreadPoolExecutor(_COPIERS, thread_name_prefix="heron-backup") as pool:
            pending: list[Future[ManifestFile | None]] = []
            for info in files:
                pending.append(pool.submit(self._copy, source, info))
                if len(pending) >= _COPIERS * 4:  # bounded: a million files never queue up
                    entries += _done(pending[: _COPIERS * 2])
                    pending = pending[_COPIERS * 2 :]
            entries += _done(pending)
        return entries

    def _claim(self, sha256: str) -> bool:
        """True for the one caller that must copy `sha256` (it is not in the destination)."""
        with self._lock:
            if sha256 in self._known:
                return False
            self._known.add(sha256)
            return True

    def _copy(self, source: ArtifactRepository, info: FileInfo) -> ManifestFile | None:
        try:
            if (info.file_size or 0) <= _IN_MEMORY_BYTES:
                entry = self._copy_small(source, info.path)
            else:
                entry = self._copy_large(source, info.path)
        except NotFound:
            return None  # deleted since it was listed (garbage collection): not in the snapshot
        if self._progress is not None:
            self._progress(entry.size)
        return entry

    def _copy_small(self, source: ArtifactRepository, path: str) -> ManifestFile:
        hashing = Hashing(source.read(path))
        content = list(hashing)
        if self._claim(hashing.sha256):
            self._destination.write(blob_path(hashing.sha256), content)
            self._count(hashing.size)
        return ManifestFile(path=path, size=hashing.size, sha256=hashing.sha256)

    def _copy_large(self, source: ArtifactRepository, path: str) -> ManifestFile:
        for _ in range(3):
            hashing = Hashing(source.read(path))
            for _chunk in hashing:
                pass
            if not self._claim(hashing.sha256):
                return ManifestFile(path=path, size=hashing.size, sha256=hashing.sha256)
            try:
                self._destination.write(
                    blob_path(hashing.sha256), _checked(source.read(path), hashing.sha256)
                )
            except _Changed:
                with self._lock:
                    self._known.discard(hashing.sha256)
                continue  # replaced between the two reads: hash it again
            self._count(hashing.size)
            return ManifestFile(path=path, size=hashing.size, sha256=hashing.sha256)
        raise InvalidParameter(f"Artifact {path!r} kept changing while it was copied")

    def _count(self, size: int) -> None:
        with self._lock:
            self.copied_bytes += size


class _Changed(Exception):
    pass


def _checked(chunks: Iterable[bytes], sha256: str) -> Iterator[bytes]:
    """The chunks, failing the write at the end if they are not the content of `sha256`."""
    hashing = Hashing(chunks)
    yield from hashing
    if hashing.sha256 != sha256:
        raise _Changed


def _done(futures: list[Future[ManifestFile | None]]) -> list[ManifestFile]:
    return [entry for f in futures if (entry := f.result()) is not None]
