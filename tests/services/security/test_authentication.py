"""Passwords and tokens become identities; caches hold until the security epoch moves."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from heron.errors import InvalidParameter, PermissionDenied, RequestLimitExceeded, Unauthenticated
from heron.services.access import Identity, identity_scope
from heron.store.sql.security_tables import access_tokens


def test_a_verified_password_is_cached_until_the_epoch_moves(security: Any, as_admin: Any) -> None:
    security.principals.create_user("alice", "password-1")
    security.epoch.refresh()
    assert security.authenticator.basic("alice", "password-1").name == "alice"
    security.principals.update_password("alice", "password-2", None)
    # This process has not looked at the epoch yet: the cached check still answers.
    assert security.authenticator.basic("alice", "password-1").name == "alice"
    security.epoch.refresh()  # what every request does first
    with pytest.raises(Unauthenticated):
        security.authenticator.basic("alice", "password-1")
    assert security.authenticator.basic("alice", "password-2").name == "alice"


def test_repeated_failures_lock_the_user_out(security: Any, as_admin: Any, clock: Any) -> None:
    security.principals.create_user("alice", "password-1")
    for _ in range(5):
        with pytest.raises(Unauthenticated, match="Invalid username or password"):
            security.authenticator.check_password("alice", "wrong-password")
    with pytest.raises(Unauthenticated, match="try again in 15 minute"):
        security.authenticator.check_password("alice", "password-1")
    clock.now += 901
    assert security.authenticator.check_password("alice", "password-1").name == "alice"


def test_one_address_failing_too_often_is_slowed_down(security: Any, as_admin: Any) -> None:
    for i in range(20):
        with pytest.raises(Unauthenticated):
            security.authenticator.check_password(f"nobody-{i}", "wrong-password")
    with pytest.raises(RequestLimitExceeded):
        security.authenticator.check_password("nobody", "wrong-password")


def test_tokens_are_shown_once_and_stored_hashed(security: Any, stores: Any, as_admin: Any) -> None:
    token, text = security.tokens.create_token("ci", scopes=["read"])
    assert text.startswith("heron_pat_" + token.token_id + "_")
    with stores.database.read() as conn:
        stored = conn.execute(select(access_tokens)).one()
    assert text.rsplit("_", 1)[1] not in str(tuple(stored))
    identity = security.authenticator.bearer(text)
    assert (identity.name, identity.scopes) == ("root", ("read",))
    with pytest.raises(Unauthenticated):
        security.authenticator.bearer(text[:-1] + ("A" if text[-1] != "A" else "B"))


def test_a_revoked_token_is_refused_after_the_epoch_moves(security: Any, as_admin: Any) -> None:
    token, text = security.tokens.create_token("ci")
    security.epoch.refresh()
    security.authenticator.bearer(text)
    security.tokens.revoke_token(token.token_id)
    security.epoch.refresh()
    with pytest.raises(Unauthenticated, match="revoked"):
        security.authenticator.bearer(text)


def test_tokens_expire(security: Any, as_admin: Any, clock: Any) -> None:
    _, text = security.tokens.create_token("ci", expires_in_days=1)
    security.authenticator.bearer(text)
    clock.now += 86_401
    with pytest.raises(Unauthenticated, match="expired"):
        security.authenticator.bearer(text)


def test_rotation_keeps_the_old_token_for_the_overlap(
    security: Any, as_admin: Any, clock: Any
) -> None:
    old, old_text = security.tokens.create_token("deploy")
    new, new_text = security.tokens.rotate_token(old.token_id, overlap_s=600)
    assert new.name == "deploy"
    assert new.token_id != old.token_id
    security.epoch.refresh()
    assert security.authenticator.bearer(old_text).name == "root"
    clock.now += 601
    with pytest.raises(Unauthenticated, match="expired"):
        security.authenticator.bearer(old_text)
    assert security.authenticator.bearer(new_text).name == "root"


def test_service_principals_get_tokens_from_admins_only(security: Any, as_admin: Any) -> None:
    from heron.entities.security import PrincipalKind

    security.principals.create_principal(PrincipalKind.SERVICE_PRINCIPAL, "ci-bot")
    _, text = security.tokens.create_token("ci", service_principal="ci-bot")
    assert text.startswith("heron_spt_")
    assert security.authenticator.bearer(text).name == "ci-bot"
    alice = security.principals.create_user("alice", "password-1")
    alice_identity = Identity(name="alice", principal_id=alice.principal_id)
    with identity_scope(alice_identity), pytest.raises(PermissionDenied, match="admin"):
        security.tokens.create_token("x", service_principal="ci-bot")


@pytest.mark.parametrize("scopes", [[], ["everything"]], ids=["none", "unknown"])
def test_token_scopes_are_checked(security: Any, as_admin: Any, scopes: list[str]) -> None:
    with pytest.raises(InvalidParameter):
        security.tokens.create_token("ci", scopes=scopes)


def test_groups_ride_along_with_the_identity(security: Any, as_admin: Any) -> None:
    from heron.entities.security import PrincipalKind

    alice = security.principals.create_user("alice", "password-1")
    team = security.principals.create_principal(PrincipalKind.GROUP, "team")
    security.principals.set_membership("team", alice, member_of=True)
    security.epoch.refresh()
    assert security.authenticator.basic("alice", "password-1").group_ids == (team.principal_id,)
