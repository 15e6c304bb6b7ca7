"""Leases on the rows of a durable queue in the database: the one mechanism behind webhook
deliveries and background work (deployment jobs).

A row is due when its `next_attempt_at` has come and its `lease_until` has passed. A worker
claims it by compare-and-set (`UPDATE ... SET claims = claims + 1, lease_until = :until WHERE
id = :id AND claims = :seen AND lease_until < :now`): on SQLite and PostgreSQL alike at most
one worker gets each claim, and a worker that died holding one gives it back when its lease
runs out. The claim count is also the worker's fencing token: every later change it makes
(extending the lease, finishing, retrying) names it, so a worker whose lease ran out cannot
undo the work of the one that claimed the row after it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Table, and_, bindparam, delete, func, select, update
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import FromClause

from heron.store.sql.database import fetch, run

CANDIDATES = 8  # due rows looked at per claim (others may be taking the first ones)


@dataclass(frozen=True, slots=True)
class Claim:
    """A row a worker holds: its id and the claim number that fences its changes."""

    id: Any
    token: int


class LeaseQueue:
    """The lease operations on `table`, whose `id_column` names a row and whose
    `fence_column` counts its claims; `due_where` narrows which rows may be claimed (and
    `joined`, the tables those conditions name). Statements are compiled once."""

    def __init__(
        self,
        table: Table,
        *,
        id_column: str,
        fence_column: str,
        joined: FromClause | None = None,
        due_where: Sequence[ColumnElement[bool]] = (),
    ) -> None:
        self.table = table
        self._id: Column[Any] = table.c[id_column]
        self._token: Column[int] = table.c[fence_column]
        c = table.c
        self._due = (
            select(self._id, self._token)
            .select_from(table if joined is None else joined)
            .where(
                c.next_attempt_at <= bindparam("now"),
                c.lease_until < bindparam("now"),
                *due_where,
            )
            .order_by(c.next_attempt_at)
            .limit(CANDIDATES)
        )
        self._claim = (
            update(table)
            .where(
                self._id == bindparam("id"),
                self._token == bindparam("seen"),
                c.lease_until < bindparam("now"),
            )
            .values({self._token: self._token + 1, c.lease_until: bindparam("until")})
        )
        self._extend = (
            update(table)
            .where(self._id == bindparam("id"), self._token == bindparam("token"))
            .values(lease_until=bindparam("until"))
        )
        self._release = (
            update(table)
            .where(self._id == bindparam("id"), self._token == bindparam("token"))
            .values(next_attempt_at=bindparam("at"), lease_until=0)
        )
        self._remove = delete(table).where(
            self._id == bindparam("id"), self._token == bindparam("token")
        )

    def anything_due(self, conn: Connection, now: int) -> bool:
        return bool(fetch(conn, self._due, {"now": now}))

    def claim(self, conn: Connection, now: int, lease_ms: int) -> Claim | None:
        """Claims one due row until `now + lease_ms`; None when nothing is due (or others
        took every due row first)."""
        for row_id, seen in fetch(conn, self._due, {"now": now}):
            params = {"id": row_id, "seen": seen, "now": now, "until": now + lease_ms}
            if run(conn, self._claim, params) == 1:
                return Claim(row_id, seen + 1)
        return None

    def holds(self, claim: Claim) -> ColumnElement[bool]:
        """The condition that the row is still under `claim` (for the caller's own updates)."""
        return and_(self._id == claim.id, self._token == claim.token)

    def extend(self, conn: Connection, claim: Claim, until: int) -> bool:
        """Moves the lease to `until`; False when the row is gone or claimed again since."""
        return run(conn, self._extend, {"id": claim.id, "token": claim.token, "until": until}) == 1

    def release(self, conn: Connection, claim: Claim, at: int) -> bool:
        """Gives the row back, due again at `at` (ms); False when the claim was lost."""
        return run(conn, self._release, {"id": claim.id, "token": claim.token, "at": at}) == 1

    def remove(self, conn: Connection, claim: Claim) -> bool:
        """Deletes the row (its work is done); False when the claim was lost."""
        return run(conn, self._remove, {"id": claim.id, "token": claim.token}) == 1

    def next_due(self, conn: Connection) -> int | None:
        """When the earliest row is due (ms since epoch), if any."""
        found = conn.execute(select(func.min(self.table.c.next_attempt_at))).scalar_one_or_none()
        return None if found is None else int(found)
