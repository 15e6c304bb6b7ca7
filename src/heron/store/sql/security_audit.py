"""SqlAuditStore: the append-only audit log, each entry chained to the one before by hash."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from heron.entities.security import AuditEntry, audit_hash
from heron.store.crypto.fields import Sealer
from heron.store.security import AuditQuery
from heron.store.sql.database import Database, insert_for
from heron.store.sql.security_tables import audit_log, security_state

_HEAD = "audit_head"
_A = audit_log.c
_S = security_state.c


# The entries whose before and after name a token: sealed with field encryption on, as the
# token's own name is (and so are those holding the value of a param or tag of a sensitive key).
_SEALED_OBJECTS = ("token",)
KEYED_FIELDS = ("tags.", "params.")


def entry_of(row: Any, sealer: Sealer) -> AuditEntry:
    before, after = row.before, row.after
    what = f"The audit entry {row.seq}"
    before, after = sealer.open_optional(before, what), sealer.open_optional(after, what)
    return AuditEntry(
        seq=int(row.seq), time=int(row.time), principal=row.principal, address=row.address,
        request_id=row.request_id, action=row.action, object_type=row.object_type,
        object_id=row.object_id, allowed=bool(row.allowed), before=before, after=after,
        count=int(row.count), prev_hash=row.prev_hash, hash=row.hash,
    )  # fmt: skip


def append_entries(
    conn: Connection, entries: Sequence[AuditEntry], sealer: Sealer | None = None
) -> list[AuditEntry]:
    """Chains `entries` to the log in the caller's transaction (one writer at a time); the
    hash covers the plaintext, what names a token is stored sealed by `sealer`."""
    head_row = insert_for(conn, security_state).values(name=_HEAD, number=0, text="")
    conn.execute(head_row.on_conflict_do_nothing(index_elements=["name"]))
    # FOR UPDATE: on PostgreSQL, concurrent appenders (other server processes) queue here, so
    # the chain never forks; SQLite's write lock already orders them.
    seq, prev = conn.execute(
        select(_S.number, _S.text).where(_S.name == _HEAD).with_for_update()
    ).one()
    seq, prev = int(seq), prev or ""
    written = []
    for entry in entries:
        seq += 1
        chained = dataclasses.replace(entry, seq=seq, prev_hash=prev, hash="")
        chained = dataclasses.replace(chained, hash=audit_hash(prev, chained))
        written.append(chained)
        prev = chained.hash
    conn.execute(insert(audit_log), [_stored(e, sealer) for e in written])
    conn.execute(update(security_state).where(_S.name == _HEAD).values(number=seq, text=prev))
    return written


def sealed_entry(sealer: Sealer, object_type: str, before: str | None, after: str | None) -> bool:
    """Whether an entry's before and after are sealed: a token's, or one that holds the value
    of a param or tag whose key is sensitive."""
    if not sealer.on:
        return False
    if object_type in _SEALED_OBJECTS:
        return True
    return any(holds_sensitive_value(sealer.is_sensitive, text) for text in (before, after))


def holds_sensitive_value(is_sensitive: Callable[[str], bool], text: str | None) -> bool:
    """Whether the JSON fields of an entry name a param or tag whose key is sensitive
    (`{"tags.db_password": ...}`)."""
    if not text or not any(f in text for f in KEYED_FIELDS):
        return False
    try:
        fields = orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return isinstance(fields, dict) and any(
        name.startswith(KEYED_FIELDS) and is_sensitive(name.split(".", 1)[1]) for name in fields
    )


def _stored(entry: AuditEntry, sealer: Sealer | None) -> dict[str, Any]:
    row = dataclasses.asdict(entry)
    if sealer is not None and sealed_entry(sealer, entry.object_type, entry.before, entry.after):
        row["before"], row["after"] = (
            sealer.seal_optional(entry.before),
            sealer.seal_optional(entry.after),
        )
    return row


class SqlAuditStore:
    def __init__(self, database: Database, sealer: Sealer | None = None) -> None:
        self._db = database
        self._sealer = sealer or Sealer(None)

    def append(self, entries: Sequence[AuditEntry]) -> list[AuditEntry]:
        if not entries:
            return []
        return self._db.write(lambda conn: append_entries(conn, entries, self._sealer))

    def entries(self, query: AuditQuery) -> list[AuditEntry]:
        stmt = select(audit_log).where(_A.seq > query.after_seq)
        if query.principal is not None:
            stmt = stmt.where(_A.principal == query.principal)
        if query.object_type is not None:
            stmt = stmt.where(_A.object_type == query.object_type)
        if query.object_id is not None:
            stmt = stmt.where(_A.object_id == query.object_id)
        if query.allowed is not None:
            stmt = stmt.where(_A.allowed == query.allowed)
        if query.since is not None:
            stmt = stmt.where(_A.time >= query.since)
        stmt = stmt.order_by(_A.seq).limit(query.max_results)
        with self._db.read() as conn:
            return [entry_of(row, self._sealer) for row in conn.execute(stmt)]

    def head(self) -> tuple[int, str]:
        """The last entry's sequence number and hash, as the chain's head row records them."""
        with self._db.read() as conn:
            row = conn.execute(select(_S.number, _S.text).where(_S.name == _HEAD)).first()
        return (0, "") if row is None else (int(row[0]), row[1] or "")
