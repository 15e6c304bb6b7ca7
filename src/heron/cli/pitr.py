"""`heron pitr …`: point-in-time recovery, with Litestream (SQLite) or WAL archiving
(PostgreSQL)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from heron.cli.options import backend_store_option, console


def _database(backend_store_uri: str | None) -> str:
    from heron.client.uri import sql_uri
    from heron.settings import Settings

    return sql_uri(Settings.for_home(backend_store_uri=backend_store_uri).backend_store_uri)


def _postgres(backend_store_uri: str | None) -> str:
    from heron.store.sql.snapshot import dialect_of

    uri = _database(backend_store_uri)
    if dialect_of(uri) != "postgresql":
        raise click.UsageError("This command is for PostgreSQL: give --backend-store-uri")
    return uri


to_time = click.option(
    "--to-time", metavar="TIME", help="The moment to recover, e.g. 2026-12-06T05:20:13Z (UTC)."
)


@click.group()
def pitr() -> None:
    """Point-in-time recovery: Litestream for SQLite, WAL archiving for PostgreSQL."""


@pitr.command("replicate")
@click.argument("destination", metavar="DEST")
@backend_store_option
def replicate(destination: str, backend_store_uri: str | None) -> None:
    """Streams every change of the SQLite database to DEST (a folder or s3://bucket/path)
    with Litestream, within a second of its commit, until stopped. Run it beside the server
    (as its own service); `heron pitr restore` brings the database back to any moment."""
    from heron.store.sql.pitr import replicate_command
    from heron.store.sql.snapshot import dialect_of

    uri = _database(backend_store_uri)
    if dialect_of(uri) != "sqlite":
        raise click.UsageError("On PostgreSQL use `heron pitr postgres-setup` (WAL archiving)")
    command = replicate_command(uri, destination)
    console.print(f"Replicating {command[2]} to {command[3]} (Ctrl-C stops)")
    os.execv(command[0], command)  # noqa: S606 - litestream itself, with our arguments


@pitr.command("restore")
@click.argument("source", metavar="SRC")
@to_time
@backend_store_option
@click.option("--force", is_flag=True, help="Replace the database at the target path.")
def restore(source: str, to_time: str | None, backend_store_uri: str | None, force: bool) -> None:
    """Restores the SQLite database from the Litestream replica SRC, as it was at --to-time
    (default: the latest). Stop the server first; artifacts come back with
    `heron backup restore` (they are immutable files, so the latest backup holds them)."""
    from heron.store.sql.pitr import restore_sqlite

    uri = _database(backend_store_uri)
    restore_sqlite(source, uri, at=to_time, replace=force)
    console.print(f"Restored {uri} from {source}" + (f" as of {to_time}" if to_time else ""))


@pitr.command("postgres-setup")
@click.argument("archive", type=click.Path(file_okay=False, path_type=Path))
@backend_store_option
def postgres_setup(archive: Path, backend_store_uri: str | None) -> None:
    """Turns on WAL archiving into ARCHIVE (a folder the PostgreSQL server can write) with
    ALTER SYSTEM (a superuser's connection). Restart PostgreSQL once, then take a base
    backup with `heron pitr postgres-base-backup`."""
    from heron.store.sql.pitr import setup_archiving

    setup_archiving(_postgres(backend_store_uri), archive.resolve())
    console.print(f"WAL archiving to {archive.resolve()}/wal is set: restart PostgreSQL now")


@pitr.command("postgres-base-backup")
@click.argument("archive", type=click.Path(file_okay=False, path_type=Path))
@backend_store_option
def postgres_base_backup(archive: Path, backend_store_uri: str | None) -> None:
    """Takes a base backup of the cluster into ARCHIVE/base/<time> (pg_basebackup); take one
    regularly (daily, say): recovery replays the WAL from the newest one before the target."""
    from heron.store.sql.pitr import base_backup

    console.print(f"Base backup in {base_backup(_postgres(backend_store_uri), archive.resolve())}")


@pitr.command("postgres-restore")
@click.argument("archive", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--to-time", required=True, metavar="TIME", help="e.g. 2026-12-06T05:20:13Z")
@click.option(
    "--pgdata",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new, empty directory for the recovered cluster.",
)
def postgres_restore(archive: Path, to_time: str, pgdata: Path) -> None:
    """Lays out a recovered cluster in --pgdata from ARCHIVE: start it with
    `pg_ctl -D PGDATA start` and it replays the WAL up to --to-time, then opens."""
    from heron.store.sql.pitr import prepare_recovery

    base = prepare_recovery(archive.resolve(), pgdata, at=to_time)
    console.print(f"{pgdata} holds base backup {base.name}: start it with pg_ctl -D {pgdata} start")
