"""Consistent online copies of the metadata database, and putting one back.

SQLite: the online backup API copies the database in one step inside a read transaction, so
in WAL mode writers go on while it runs and the copy is the database as of one commit.
PostgreSQL: `pg_dump` (custom format) from the PostgreSQL binaries, whose snapshot is one
repeatable-read transaction; `pg_restore` puts it back. Neither is home-made."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import sqlite3
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import inspect

from heron.errors import HeronError, InvalidParameter
from heron.store.sql.database import Database

PG_BINDIR_ENV = "HERON_PG_BINDIR"


class ToolFailed(HeronError):
    """A database tool (pg_dump, pg_restore) failed; the message carries its own words."""


def dialect_of(uri: str) -> str:
    """ "sqlite" or "postgresql" for a database URI."""
    scheme = uri.split(":", 1)[0].split("+", 1)[0].lower()
    if scheme == "sqlite":
        return "sqlite"
    if scheme in ("postgresql", "postgres"):
        return "postgresql"
    raise InvalidParameter(f"Unsupported database {scheme!r}: use sqlite:/// or postgresql://")


def sqlite_path(uri: str) -> Path:
    """The file of a `sqlite:///path` URI."""
    if not uri.startswith("sqlite:///") or uri.endswith(":memory:"):
        raise InvalidParameter(f"{uri!r} is not a SQLite database file (sqlite:///path)")
    return Path(urllib.parse.unquote(uri[len("sqlite:///") :].split("?", 1)[0]))


def libpq_uri(uri: str) -> str:
    """The URI the PostgreSQL tools read (no SQLAlchemy `+driver` part)."""
    scheme, rest = uri.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else uri


def pg_tool(name: str) -> str:
    """The path of a PostgreSQL client program: `$HERON_PG_BINDIR`, else the newest Debian
    /usr/lib/postgresql/<version>/bin, else PATH.

    Raises:
        ToolFailed: the program is not installed.
    """
    bindir = os.environ.get(PG_BINDIR_ENV)
    if bindir:
        return str(Path(bindir) / name)
    found = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")
    if found:
        return max(found, key=lambda p: _version(Path(p).parent.parent.name))
    on_path = shutil.which(name)
    if on_path is None:
        raise ToolFailed(
            f"{name} is not installed: install the PostgreSQL client (apt-get install "
            f"postgresql-client) or set {PG_BINDIR_ENV} to the directory that holds it"
        )
    return on_path


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(".") if x.isdigit())


def snapshot_database(uri: str, out: Path) -> None:
    """Writes a consistent copy of the live database at `uri` to the file `out`."""
    if dialect_of(uri) == "sqlite":
        _sqlite_backup(sqlite_path(uri), out)
    else:
        _run_tool([pg_tool("pg_dump"), "--format=custom", "--no-sync", "-f", str(out)], uri)


def _sqlite_backup(source: Path, out: Path) -> None:
    if not source.exists():
        raise InvalidParameter(f"There is no SQLite database at {str(source)!r}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(out)
    try:
        src.execute("PRAGMA busy_timeout=30000")
        # One step (pages=-1): a single read transaction, so writers in WAL mode never
        # restart it and the copy is the database as of one commit.
        src.backup(dst, pages=-1)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()


def _run_tool(command: list[str], uri: str) -> None:
    """Runs a PostgreSQL tool on `uri`, the connection given by environment (never argv,
    where a password would show in `ps`)."""
    parts = urllib.parse.urlsplit(libpq_uri(uri))
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = urllib.parse.unquote(parts.password)
    result = subprocess.run(  # noqa: S603 - a fixed program, arguments we built
        [*command, f"--dbname={_without_password(libpq_uri(uri))}"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise ToolFailed(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")


def _without_password(uri: str) -> str:
    parts = urllib.parse.urlsplit(uri)
    if parts.password is None:
        return uri
    host = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urllib.parse.urlunsplit(parts._replace(netloc=f"{user}@{host}"))


def database_is_empty(uri: str) -> bool:
    """Whether the database at `uri` holds no table (a SQLite file that does not exist yet
    is empty)."""
    if dialect_of(uri) == "sqlite" and not sqlite_path(uri).exists():
        return True
    database = Database(uri)
    try:
        with database.engine.connect() as conn:
            return not inspect(conn).get_table_names()
    finally:
        database.dispose()


def check_empty(uri: str) -> None:
    """Raises InvalidParameter when the database at `uri` holds tables."""
    if not database_is_empty(uri):
        raise InvalidParameter(
            "The target database is not empty: restore into an empty one, or pass --force "
            "to replace what it holds"
        )


def restore_database(snapshot: Path, dialect: str, uri: str, *, replace: bool) -> None:
    """Puts the copy `snapshot` (made by `snapshot_database` on a `dialect` database) into
    the database at `uri`. A database holding tables is refused unless `replace`.

    Raises:
        InvalidParameter: another dialect, or a database that is not empty.
    """
    target = dialect_of(uri)
    if target != dialect:
        raise InvalidParameter(
            f"This backup holds a {dialect} database and the target is {target}: restore it "
            f"to a {dialect} database, then move it with `heron export` and `heron import`"
        )
    if not replace:
        check_empty(uri)
    if target == "sqlite":
        _sqlite_put(snapshot, sqlite_path(uri))
        return
    if replace:
        _drop_public_schema(uri)
    _run_tool(
        [
            pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            str(snapshot),
        ],
        uri,
    )


def _sqlite_put(snapshot: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(path.name + ".restoring")
    shutil.copyfile(snapshot, temp)
    with _closing(sqlite3.connect(temp)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")  # as Heron runs it
    for suffix in ("-wal", "-shm"):  # a replaced database's log must not be replayed on it
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")
    os.replace(temp, path)


@contextlib.contextmanager
def _closing(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    try:
        yield conn
    finally:
        conn.close()


def _drop_public_schema(uri: str) -> None:
    import psycopg

    with psycopg.connect(libpq_uri(uri), autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
        conn.execute("CREATE SCHEMA public")
