"""Database.write's group commit: each write in a group stands or falls alone."""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Connection, text

from heron.errors import InvalidParameter
from heron.store.sql.database import Database


def test_a_write_the_database_refuses_fails_alone_in_its_group(database_uri: str) -> None:
    """A database error in one write (on PostgreSQL, a NUL byte in a text column, say) rolls
    back that write only: the others committed in the same transaction stand."""
    db = Database(database_uri)
    try:
        db.write(lambda conn: conn.execute(text("CREATE TABLE notes (body TEXT NOT NULL)")))

        def note(body: str) -> Any:
            return lambda conn: conn.execute(text("INSERT INTO notes VALUES (:b)"), {"b": body})

        def refused(conn: Connection) -> None:
            conn.execute(text("INSERT INTO no_such_table VALUES (1)"))

        def rule_broken(conn: Connection) -> None:
            raise InvalidParameter("a rule said no")

        writes = [note("a"), refused, note("b"), rule_broken, note("c")]
        outcomes: dict[int, str] = {}

        def run(i: int) -> None:
            try:
                db.write(writes[i])
                outcomes[i] = "ok"
            except Exception as exc:
                outcomes[i] = type(exc).__name__

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(writes))]
        with db._leader:  # every write queues behind the lock: they commit as one group
            for t in threads:
                t.start()
            while db._queue.qsize() < len(writes):
                time.sleep(0.001)
        for t in threads:
            t.join()
        assert outcomes[0] == outcomes[2] == outcomes[4] == "ok"
        assert outcomes[1] != "ok"
        assert outcomes[3] == "InvalidParameter"
        with db.engine.connect() as conn:
            bodies = sorted(conn.execute(text("SELECT body FROM notes")).scalars())
        assert bodies == ["a", "b", "c"]
    finally:
        db.dispose()
