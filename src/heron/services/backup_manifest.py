"""A backup's manifest, and where a backup destination keeps backups and content blobs.

A destination (a folder or an S3 prefix, any `ArtifactRepository`) holds:

    backups/<backup_id>/database.sqlite | database.pgdump   the database snapshot
    backups/<backup_id>/manifest.json                        written last: a backup without
                                                             one is incomplete and not listed
    blobs/<first two hex digits>/<sha256>                    artifact contents, shared by all
                                                             backups (so each copies only
                                                             what the others lack)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from heron.errors import InvalidParameter, NotFound
from heron.store.artifacts.repository import ArtifactRepository

FORMAT = "heron-backup/1"
BACKUPS_DIR = "backups"
MANIFEST = "manifest.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestFile:
    path: str  # an artifact's path under the artifact root, or the snapshot's in the backup
    size: int
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class BackupManifest:
    backup_id: str
    # Every write acknowledged before this instant is in the backup (the snapshot began after).
    snapshot_ms: int
    finished_ms: int
    heron_version: str
    dialect: str  # "sqlite" or "postgresql"
    schema_revision: str | None
    database: ManifestFile
    artifacts: tuple[ManifestFile, ...] = field(default_factory=tuple)
    copied_bytes: int = 0  # artifact bytes this backup added to the destination

    @property
    def artifact_bytes(self) -> int:
        return sum(f.size for f in self.artifacts)


def blob_path(sha256: str) -> str:
    return f"blobs/{sha256[:2]}/{sha256}"


def backup_dir(backup_id: str) -> str:
    return f"{BACKUPS_DIR}/{backup_id}"


def dump_manifest(manifest: BackupManifest) -> bytes:
    def entry(f: ManifestFile) -> dict[str, object]:
        return {"path": f.path, "size": f.size, "sha256": f.sha256}

    return orjson.dumps(
        {
            "format": FORMAT,
            "backup_id": manifest.backup_id,
            "snapshot_ms": manifest.snapshot_ms,
            "finished_ms": manifest.finished_ms,
            "heron_version": manifest.heron_version,
            "dialect": manifest.dialect,
            "schema_revision": manifest.schema_revision,
            "database": entry(manifest.database),
            "copied_bytes": manifest.copied_bytes,
            "artifacts": [entry(f) for f in manifest.artifacts],
        }
    )


def load_manifest(data: bytes, where: str) -> BackupManifest:
    try:
        doc = orjson.loads(data)
        if doc.get("format") != FORMAT:
            raise InvalidParameter(f"{where} is not a Heron backup manifest ({FORMAT})")

        def entry(d: dict[str, Any]) -> ManifestFile:
            return ManifestFile(path=str(d["path"]), size=int(d["size"]), sha256=str(d["sha256"]))

        return BackupManifest(
            backup_id=str(doc["backup_id"]),
            snapshot_ms=int(doc["snapshot_ms"]),
            finished_ms=int(doc["finished_ms"]),
            heron_version=str(doc["heron_version"]),
            dialect=str(doc["dialect"]),
            schema_revision=doc.get("schema_revision"),
            database=entry(doc["database"]),
            artifacts=tuple(entry(d) for d in doc["artifacts"]),
            copied_bytes=int(doc.get("copied_bytes", 0)),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        raise InvalidParameter(f"{where} is not a readable backup manifest") from None


def read_bytes(repository: ArtifactRepository, path: str) -> bytes:
    return b"".join(repository.read(path))


def read_manifest(destination: ArtifactRepository, backup_id: str) -> BackupManifest:
    """The manifest of one backup; "latest" names the newest.

    Raises:
        NotFound: no complete backup of that id.
    """
    if backup_id == "latest":
        found = list_backups(destination)
        if not found:
            raise NotFound(f"There is no backup in {destination!r}")
        return found[0]
    where = f"{backup_dir(backup_id)}/{MANIFEST}"
    try:
        data = read_bytes(destination, where)
    except (NotFound, InvalidParameter):
        raise NotFound(f"There is no complete backup {backup_id!r} in {destination!r}") from None
    return load_manifest(data, where)


def backup_ids(destination: ArtifactRepository) -> Iterator[str]:
    """The ids of the backup directories, complete or not."""
    token: str | None = None
    while True:
        page = destination.list(BACKUPS_DIR, page_token=token)
        for info in page.items:
            if info.is_dir:
                yield info.path.rsplit("/", 1)[-1]
        token = page.next_page_token
        if not token:
            return


def list_backups(destination: ArtifactRepository) -> list[BackupManifest]:
    """The complete backups, newest first."""
    found = []
    for backup_id in backup_ids(destination):
        try:
            found.append(read_manifest(destination, backup_id))
        except NotFound:
            continue  # still being written, or abandoned
    return sorted(found, key=lambda m: (m.snapshot_ms, m.backup_id), reverse=True)


class Hashing:
    """Passes chunks through, counting their bytes and their SHA-256."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._hash = hashlib.sha256()
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self._hash.update(chunk)
            self.size += len(chunk)
            yield chunk

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()
