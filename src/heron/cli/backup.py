"""`heron backup create|list|verify|restore|prune`: consistent backups of a Heron server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from heron.cli.options import (
    artifacts_destination_option,
    backend_store_option,
    console,
    format_time,
)

_progress_console = Console(stderr=True)


class _Bar:
    def __init__(self, bar: Progress, task: TaskID) -> None:
        self._bar, self._task = bar, task

    def total(self, n: int) -> None:
        self._bar.update(self._task, total=n)

    def advance(self, n: int) -> None:
        self._bar.advance(self._task, n)


@contextmanager
def byte_progress(description: str, total: int | None) -> Iterator[_Bar]:
    """A progress bar over bytes (on stderr, gone when done)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=_progress_console,
        transient=True,
    ) as bar:
        yield _Bar(bar, bar.add_task(description, total=total))


def _store(backend_store_uri: str | None, artifacts_destination: str | None) -> tuple[str, str]:
    from heron.client.uri import sql_uri
    from heron.settings import Settings

    settings = Settings.for_home(
        backend_store_uri=backend_store_uri, artifacts_destination=artifacts_destination
    )
    return sql_uri(settings.backend_store_uri), settings.artifacts_destination


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{n} B"


@click.group()
def backup() -> None:
    """Consistent online backups: the database and the artifacts, to a folder or s3://."""


@backup.command("create")
@click.argument("destination", metavar="DEST")
@backend_store_option
@artifacts_destination_option
@click.option(
    "--keep",
    default=None,
    metavar="AGE|N",
    help="Then remove older backups: those older than AGE (7d, 12h) or all but the newest N.",
)
def create(
    destination: str,
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    keep: str | None,
) -> None:
    """Backs up the server's database and artifacts to DEST (a folder or s3://bucket/prefix)
    while it keeps serving. Artifacts already in DEST (by SHA-256) are not copied again."""
    from heron.clock import now_ms
    from heron.services.backup_retention import Retention, prune_backups
    from heron.services.backups import BackupSource, create_backup
    from heron.store.artifacts import open_artifact_repository

    # A backup is background work: the server's requests come first on a busy machine.
    os.nice(10)
    retention = Retention.parse(keep) if keep else None
    database_uri, artifacts = _store(backend_store_uri, artifacts_destination)
    target = open_artifact_repository(destination)
    source = BackupSource(database_uri, open_artifact_repository(artifacts))
    with byte_progress("Backing up", None) as bar:
        manifest = create_backup(source, target, on_listed=bar.total, progress=bar.advance)
    console.print(
        f"Backup {manifest.backup_id}: database {_size(manifest.database.size)}, "
        f"{len(manifest.artifacts)} artifact files ({_size(manifest.artifact_bytes)}, "
        f"{_size(manifest.copied_bytes)} new) in "
        f"{(manifest.finished_ms - manifest.snapshot_ms) / 1000:.1f} s"
    )
    if retention is not None:
        pruned = prune_backups(target, retention, now_ms=now_ms())
        for backup_id in pruned.backups:
            console.print(f"Removed backup {backup_id}")
        if pruned.blobs:
            console.print(f"Removed {pruned.blobs} artifact blobs no backup refers to")


@backup.command("list")
@click.argument("destination", metavar="DEST")
def list_(destination: str) -> None:
    """Lists the complete backups in DEST, newest first."""
    from heron.services.backup_manifest import list_backups
    from heron.store.artifacts import open_artifact_repository

    found = list_backups(open_artifact_repository(destination))
    if not found:
        console.print(f"No backups in {destination}")
        return
    table = Table("backup", "taken", "database", "artifacts", "size", "new", box=None)
    for m in found:
        table.add_row(
            m.backup_id,
            format_time(m.snapshot_ms),
            f"{m.dialect} {_size(m.database.size)}",
            str(len(m.artifacts)),
            _size(m.artifact_bytes),
            _size(m.copied_bytes),
        )
    console.print(table)


backup_option = click.option(
    "--backup", "backup_id", default="latest", show_default=True, help="Which backup."
)


@backup.command("verify")
@click.argument("destination", metavar="DEST")
@backup_option
def verify(destination: str, backup_id: str) -> None:
    """Reads a backup back and checks every file's size and SHA-256 against its manifest."""
    from heron.services.backup_manifest import read_manifest
    from heron.services.restore import verify_backup
    from heron.store.artifacts import open_artifact_repository

    target = open_artifact_repository(destination)
    manifest = read_manifest(target, backup_id)
    total = manifest.database.size + sum(f.size for f in manifest.artifacts)
    with byte_progress("Verifying", total) as bar:
        result = verify_backup(target, manifest, progress=bar.advance)
    for problem in result.problems:
        console.print(f"[red]BAD[/red] {problem}")
    if not result.ok:
        raise click.ClickException(
            f"Backup {result.backup_id}: {len(result.problems)} of {result.checked_files} "
            "files are missing or damaged"
        )
    console.print(
        f"Backup {result.backup_id} is whole: {result.checked_files} files, "
        f"{_size(result.checked_bytes)}, every SHA-256 as in the manifest"
    )


@backup.command("restore")
@click.argument("source", metavar="SRC")
@backup_option
@backend_store_option
@artifacts_destination_option
@click.option("--force", is_flag=True, help="Replace what the target database and root hold.")
def restore(
    source: str,
    backup_id: str,
    backend_store_uri: str | None,
    artifacts_destination: str | None,
    force: bool,
) -> None:
    """Restores a backup from SRC into the database and artifact root given by the store
    flags (stop any server on them first). They must be empty unless --force."""
    from heron.services.backup_manifest import read_manifest
    from heron.services.restore import restore_backup
    from heron.store.artifacts import open_artifact_repository
    from heron.store.sql import Database
    from heron.store.sql.migrate import upgrade_if_needed

    database_uri, artifacts = _store(backend_store_uri, artifacts_destination)
    origin = open_artifact_repository(source)
    manifest = read_manifest(origin, backup_id)
    with byte_progress("Restoring", manifest.artifact_bytes) as bar:
        restore_backup(
            origin,
            manifest,
            database_uri=database_uri,
            artifacts=open_artifact_repository(artifacts),
            replace=force,
            progress=bar.advance,
        )
    database = Database(database_uri)
    try:
        upgrade_if_needed(database)  # a backup of an older Heron gets this one's schema
    finally:
        database.dispose()
    console.print(
        f"Restored backup {manifest.backup_id} (taken {format_time(manifest.snapshot_ms)}): "
        f"{len(manifest.artifacts)} artifact files, every SHA-256 checked"
    )


@backup.command("prune")
@click.argument("destination", metavar="DEST")
@click.option("--keep", required=True, metavar="AGE|N", help="7d, 12h, or a number of backups.")
def prune(destination: str, keep: str) -> None:
    """Removes backups older than AGE (or all but the newest N); the newest always stays."""
    from heron.clock import now_ms
    from heron.services.backup_retention import Retention, prune_backups
    from heron.store.artifacts import open_artifact_repository

    pruned = prune_backups(
        open_artifact_repository(destination), Retention.parse(keep), now_ms=now_ms()
    )
    for backup_id in pruned.backups:
        console.print(f"Removed backup {backup_id}")
    console.print(f"Removed {len(pruned.backups)} backups and {pruned.blobs} artifact blobs")
