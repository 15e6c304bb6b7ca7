"""The audit log: a hash chain `verify` checks, and denials coalesced so floods cannot bury it."""

from __future__ import annotations

import itertools
from typing import Any

from sqlalchemy import delete, update

from heron.store.security import AuditQuery
from heron.store.sql.security_tables import audit_log


def test_changes_are_chained_and_verify(security: Any, as_admin: Any) -> None:
    security.principals.create_user("alice", "password-1")
    security.principals.set_admin("alice", True)
    entries = security.audit.entries(AuditQuery())
    assert [e.action for e in entries] == ["bootstrap_admin", "create_user", "update_admin"]
    assert entries[2].before == '{"is_admin":false}'
    assert entries[2].after == '{"is_admin":true}'
    assert all(e.prev_hash == p.hash for p, e in itertools.pairwise(entries))
    result = security.audit.verify()
    assert (result.ok, result.checked, result.head_seq) == (True, 3, 3)


def test_an_edited_entry_breaks_the_chain(security: Any, stores: Any, as_admin: Any) -> None:
    security.principals.create_user("alice", "password-1")
    security.principals.create_user("bob", "password-2")
    stores.database.write(
        lambda conn: conn.execute(
            update(audit_log).where(audit_log.c.seq == 2).values(object_id="x")
        )
    )
    result = security.audit.verify()
    assert not result.ok
    assert "entry 2" in result.problem


def test_a_removed_last_entry_is_found(security: Any, stores: Any, as_admin: Any) -> None:
    security.principals.create_user("alice", "password-1")
    stores.database.write(lambda conn: conn.execute(delete(audit_log).where(audit_log.c.seq == 2)))
    result = security.audit.verify()
    assert not result.ok
    assert "head says 2" in result.problem


def test_a_flood_of_denials_is_one_entry_and_a_count(
    security: Any, as_admin: Any, clock: Any
) -> None:
    for _ in range(500):
        security.audit.denied("read", "experiment", "1", who="mallory")
    security.audit.denied("read", "experiment", "1", who="eve")
    denials = security.audit.entries(AuditQuery(allowed=False))
    assert [(e.principal, e.count) for e in denials] == [("mallory", 1), ("eve", 1)]
    clock.now += 61
    security.audit.denied("read", "experiment", "1", who="mallory")
    denials = security.audit.entries(AuditQuery(allowed=False))
    assert [(e.principal, e.count) for e in denials] == [
        ("mallory", 1), ("eve", 1), ("mallory", 499), ("mallory", 1),
    ]  # fmt: skip
    assert security.audit.verify().ok
