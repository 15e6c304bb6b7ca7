"""SharedCounter: a number in the `security_state` table that every server process reads on
each request, to learn that another process changed what it caches (the security epoch, the
workspaces' version).

On SQLite every write moves the database's pages, so even a one-row read costs a request
30-100 us once another connection has written. Each bump of a counter therefore also writes a
new random token into a small file beside the database (`<db>-<signal>`), after its commit and
before its caller hears back; a process reads the number again only when that token changed
(or once a second, should a process have died between the two). PostgreSQL reads the number:
one primary-key read on a connection kept for it."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from typing import Any

from sqlalchemy import Connection, Engine, insert, update

from heron.store.sql.database import Database, after_commit
from heron.store.sql.security_tables import security_state

_log = logging.getLogger(__name__)

RECHECK_S = 1.0  # the number is read at least this often whatever the token says


def bump(conn: Connection, name: str, signal: str) -> None:
    """Moves counter `name` inside the writer's transaction; its token file `signal` changes
    after the commit, so every process sees the new number on its next request."""
    changed = conn.execute(
        update(security_state)
        .where(security_state.c.name == name)
        .values(number=security_state.c.number + 1)
    )
    if changed.rowcount == 0:
        conn.execute(insert(security_state).values(name=name, number=1, text=None))
    path = signal_path(conn.engine, signal)
    if path is not None:
        after_commit(conn, lambda: _write_token(path))


def signal_path(engine: Engine, signal: str) -> str | None:
    """The token file of a SQLite database on disk (None for PostgreSQL or in memory)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return f"{database}-{signal}"


def _write_token(path: str) -> None:
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.pwrite(fd, secrets.token_bytes(16), 0)
        finally:
            os.close(fd)
    except OSError as exc:  # the change is committed: other processes see it within RECHECK_S
        _log.warning("Cannot write the token file %s: %s", path, exc)


def _opened(path: str | None) -> int | None:
    """The token file, made if missing and kept open for reading (writers change it in
    place); None when it cannot be (the number is then read each time)."""
    if path is None:
        return None
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
        return os.open(path, os.O_RDONLY)
    except OSError:
        return None


class SharedCounter:
    """Counter `name` of `database`, as `bump(conn, name, signal)` moves it."""

    def __init__(self, database: Database, name: str, signal: str) -> None:
        self._db = database
        self._name = name
        self._raw: Any = None  # a connection of its own, in autocommit
        self._sql = ""
        self._lock = threading.Lock()
        self._path = signal_path(database.engine, signal)
        self._signal: int | None = None  # the token file, opened on the first read
        self._seen: tuple[bytes, float, int] | None = None  # token, when read, the number

    def read(self) -> int:
        """The token file's 16 bytes on SQLite, and the number only when they changed; else
        one primary-key read."""
        if self._signal is None and self._path is not None:
            with self._lock:
                if self._signal is None:
                    self._signal = _opened(self._path)
                    self._path = None if self._signal is None else self._path
        if self._signal is None:
            return self._read()
        token = os.pread(self._signal, 16, 0)  # before the number: a change in between is seen
        now = time.monotonic()
        seen = self._seen
        if seen is not None and seen[0] == token and now - seen[1] < RECHECK_S:
            return seen[2]
        number = self._read()
        self._seen = (token, now, number)
        return number

    def _read(self) -> int:
        """One primary-key read on a connection kept for it (the pool's checkout and
        SQLAlchemy's transaction cost 100 us, seven times the read)."""
        with self._lock:
            try:
                if self._raw is None:
                    self._raw, self._sql = self._connect()
                cursor = self._raw.cursor()
                try:
                    cursor.execute(self._sql, (self._name,))
                    rows = cursor.fetchall()
                finally:
                    cursor.close()
            except Exception:
                self._close()
                raise
        return int(rows[0][0]) if rows else 0

    def _connect(self) -> tuple[Any, str]:
        raw = self._db.engine.raw_connection()
        raw.detach()  # not the pool's: it lives as long as this counter
        if self._db.dialect == "postgresql":
            raw.dbapi_connection.autocommit = True  # type: ignore[union-attr]
            return raw, "SELECT number FROM security_state WHERE name = %s"
        return raw, "SELECT number FROM security_state WHERE name = ?"

    def _close(self) -> None:
        if self._raw is not None:
            with contextlib.suppress(Exception):
                self._raw.close()
            self._raw = None

    def close(self) -> None:
        with self._lock:
            self._close()
            self._path = None
            if self._signal is not None:
                os.close(self._signal)
                self._signal = None
