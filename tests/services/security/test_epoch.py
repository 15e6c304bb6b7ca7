"""The security epoch across processes on one database: a change made by one is seen by the
next request of every other (SQLite reads a token file first, PostgreSQL the number)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlalchemy import update
from tests.conftest import PROXIED_ARTIFACT_ROOT

from heron.services.access import Identity, identity_scope
from heron.services.security.bundle import build_security
from heron.store.sql import open_sql_stores
from heron.store.sql.security_state import bump_epoch
from heron.store.sql.security_tables import security_state
from heron.store.sql.shared_counters import RECHECK_S


@pytest.fixture
def other_process(database_uri: str) -> Any:
    """A second set of stores on the same database, as another worker or `heron admin` has."""
    opened = open_sql_stores(database_uri, default_artifact_root=PROXIED_ARTIFACT_ROOT)
    yield opened
    opened.close()


def test_a_change_by_another_process_is_seen_at_once(
    security: Any, as_admin: Identity, other_process: Any
) -> None:
    security.principals.create_user("alice", "password-1")
    security.epoch.refresh()
    assert security.authenticator.basic("alice", "password-1").name == "alice"

    theirs = build_security(other_process.security)
    with identity_scope(as_admin):
        theirs.principals.update_password("alice", "password-2", None)

    security.epoch.refresh()  # this process's next request
    assert security.authenticator.cached_basic("alice", "password-1") is None


def test_a_bump_that_left_no_token_is_seen_within_the_recheck(
    stores: Any, other_process: Any
) -> None:
    """A process killed between its commit and the token file: the number is read again
    within RECHECK_S all the same."""
    state = stores.security.state
    other_process.database.write(bump_epoch)  # the row exists, and the token moved
    before = state.epoch()
    assert before >= 1
    with other_process.database.engine.begin() as conn:  # the number alone, no token
        conn.execute(update(security_state).values(number=security_state.c.number + 7))
    time.sleep(RECHECK_S + 0.05)
    assert state.epoch() >= before + 7
