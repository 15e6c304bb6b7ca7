"""The security services on the test's database (SQLite and PostgreSQL), with a clock tests move."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from heron.services.access import Identity, identity_scope


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def security(stores: Any, clock: Clock) -> Any:
    from heron.services.security.bundle import build_security

    return build_security(stores.security, clock=clock)


@pytest.fixture
def as_admin(security: Any) -> Iterator[Identity]:
    """Runs the test as the first admin (made the way `heron admin create-user` makes it)."""
    admin = security.principals.bootstrap_admin("root", "root-password")
    identity = Identity(
        name="root", authenticated=True, principal_id=admin.principal_id, is_admin=True
    )
    with identity_scope(identity):
        yield identity
