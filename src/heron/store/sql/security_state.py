"""SqlSecurityState: the security epoch every server process checks, and the server's keys."""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, insert, select, update

from heron.store.sql.database import Database, fetch, insert_for
from heron.store.sql.security_tables import security_state

EPOCH = "epoch"
_READ_EPOCH = select(security_state.c.number).where(security_state.c.name == EPOCH)


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

    def epoch(self) -> int:
        with self._db.read() as conn:
            rows = fetch(conn, _READ_EPOCH, {})
        return int(rows[0][0]) if rows else 0

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
