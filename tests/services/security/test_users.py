"""Users: argon2id hashes, who may create and change them, the first admin, the last admin."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from heron.errors import AlreadyExists, BadRequest, InvalidParameter, PermissionDenied
from heron.services.access import Identity, identity_scope
from heron.store.sql.security_tables import principals


def test_passwords_are_stored_as_argon2id_hashes(security: Any, stores: Any, as_admin: Any) -> None:
    security.principals.create_user("alice", "correct horse")
    with stores.database.read() as conn:
        stored = conn.execute(
            select(principals.c.password_hash).where(principals.c.name == "alice")
        ).scalar_one()
    assert stored.startswith("$argon2id$")
    assert "correct horse" not in stored


def test_only_admins_create_users(security: Any, as_admin: Any) -> None:
    alice = security.principals.create_user("alice", "password-1")
    alice_identity = Identity(name="alice", principal_id=alice.principal_id)
    with identity_scope(alice_identity), pytest.raises(PermissionDenied):
        security.principals.create_user("mallory", "password-2")


def test_a_user_name_is_taken_once(security: Any, as_admin: Any) -> None:
    security.principals.create_user("alice", "password-1")
    with pytest.raises(AlreadyExists):
        security.principals.create_user("alice", "password-2")


@pytest.mark.parametrize(
    ("name", "password"),
    [("", "password-1"), ("a\nb", "password-1"), ("a\x1b[31m", "password-1"), ("bob", "short")],
    ids=["empty-name", "newline", "escape", "short-password"],
)
def test_bad_names_and_passwords_are_refused(
    security: Any, as_admin: Any, name: str, password: str
) -> None:
    with pytest.raises(InvalidParameter):
        security.principals.create_user(name, password)


def test_the_first_admin_is_made_once(security: Any) -> None:
    assert security.principals.bootstrap_admin("root", "root-password") is not None
    assert security.principals.bootstrap_admin("other", "other-password") is None


def test_changing_ones_own_password_needs_the_current_one(security: Any, as_admin: Any) -> None:
    alice = security.principals.create_user("alice", "password-1")
    with identity_scope(Identity(name="alice", principal_id=alice.principal_id)):
        with pytest.raises(InvalidParameter, match="Current password is required"):
            security.principals.update_password("alice", "password-2", None)
        with pytest.raises(InvalidParameter, match="does not match"):
            security.principals.update_password("alice", "password-2", "wrong-one")
        security.principals.update_password("alice", "password-2", "password-1")
    assert security.authenticator.check_password("alice", "password-2").name == "alice"


def test_the_last_admin_stays_and_nobody_deletes_themselves(security: Any, as_admin: Any) -> None:
    with pytest.raises(BadRequest, match="last admin"):
        security.principals.set_admin("root", False)
    with pytest.raises(BadRequest, match="own account"):
        security.principals.delete_user("root")
