"""SqlSecurityState: the security epoch every server process checks, and the server's keys."""

from __future__ import annotations

import contextlib
import secrets
import threading
from typing import Any

from sqlalchemy import Connection, insert, select, update

from heron.store.sql.database import Database, insert_for
from heron.store.sql.security_tables import security_state

EPOCH = "epoch"


def bump_epoch(conn: Connection) -> None:
    """Called inside every write that changes who may do what: every process sees the new
    number on its next request and drops what it had cached."""
    changed = conn.execute(
        update(security_state)
        .where(security_state.c.name == EPOCH)
        .values(number=security_state.c.number + 1)
    )
    if changed.rowcount == 0:
        conn.execute(insert(security_state).values(name=EPOCH, number=1, text=None))


class SqlSecurityState:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._secrets: dict[str, bytes] = {}
        self._raw: Any = None  # a connection of its own for the epoch, in autocommit
        self._sql = ""
        self._lock = threading.Lock()

    def epoch(self) -> int:
        """Every request asks this: one primary-key read on a connection kept for it (the
        pool's checkout and SQLAlchemy's transaction cost 100 us, seven times the read)."""
        with self._lock:
            try:
                if self._raw is None:
                    self._raw, self._sql = self._connect()
                cursor = self._raw.cursor()
                try:
                    cursor.execute(self._sql, ("epoch",))
                    rows = cursor.fetchall()
                finally:
                    cursor.close()
            except Exception:
                self._close()
                raise
        return int(rows[0][0]) if rows else 0

    def _connect(self) -> tuple[Any, str]:
        raw = self._db.engine.raw_connection()
        raw.detach()  # not the pool's: it lives as long as this store
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

    def secret(self, name: str) -> bytes:
        known = self._secrets.get(name)
        if known is not None:
            return known

        def get_or_make(conn: Connection) -> str:
            stmt = insert_for(conn, security_state).values(
                name=name, number=0, text=secrets.token_hex(32)
            )
            conn.execute(stmt.on_conflict_do_nothing(index_elements=["name"]))
            found = conn.execute(
                select(security_state.c.text).where(security_state.c.name == name)
            ).scalar_one()
            return str(found)

        value = bytes.fromhex(self._db.write(get_or_make))
        self._secrets[name] = value
        return value
