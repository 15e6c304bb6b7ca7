"""SqlSecurityState: the security epoch every server process checks (a SharedCounter), and
the server's keys."""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, select

from heron.store.sql.database import Database, insert_for
from heron.store.sql.security_tables import security_state
from heron.store.sql.shared_counters import SharedCounter, bump

EPOCH = "epoch"
_SIGNAL = "security-epoch"  # `<db>-security-epoch`, beside a SQLite database


def bump_epoch(conn: Connection) -> None:
    """Called inside every write that changes who may do what: every process sees the new
    number on its next request and drops what it had cached."""
    bump(conn, EPOCH, _SIGNAL)


class SqlSecurityState:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._secrets: dict[str, bytes] = {}
        self._epoch = SharedCounter(database, EPOCH, _SIGNAL)

    def epoch(self) -> int:
        """Every request asks this (see SharedCounter.read)."""
        return self._epoch.read()

    def close(self) -> None:
        self._epoch.close()

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
