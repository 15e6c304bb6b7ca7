"""Grants: inherited downward, DENY wins, PROMOTE limited to aliases, nobody grants above own."""

from __future__ import annotations

from typing import Any

import pytest

from heron.entities.security import Grant, PrincipalKind, Privilege, SecurableType
from heron.errors import PermissionDenied
from heron.services.access import Identity, identity_scope
from heron.services.security.decisions import allows, chain, model_key, model_of_key
from heron.store.security import AuditQuery

MODEL = (SecurableType.REGISTERED_MODEL, "main.fraud.detector")
SCHEMA = (SecurableType.SCHEMA, "main.fraud")
CATALOG = (SecurableType.CATALOG, "main")


def _grant(privilege: Privilege, on: tuple[SecurableType, str], *, deny: bool = False,
           aliases: tuple[str, ...] | None = None) -> Grant:  # fmt: skip
    return Grant(
        grant_id=1, principal_id=1, principal_name="u", principal_kind=PrincipalKind.USER,
        privilege=privilege, securable_type=on[0], securable_id=on[1], deny=deny, aliases=aliases,
    )  # fmt: skip


def test_a_models_chain_runs_up_to_its_catalog() -> None:
    every = [(kind, "*") for kind in (SecurableType.SCHEMA, SecurableType.CATALOG)]
    assert chain(*MODEL) == [
        MODEL, (SecurableType.REGISTERED_MODEL, "*"),  # every model of `default`
        SCHEMA, every[0], CATALOG, every[1], (SecurableType.METASTORE, "*"),
    ]  # fmt: skip


def test_a_workspace_models_chain_runs_through_its_workspace() -> None:
    key = model_key("main.fraud.detector", "team-a")
    assert key == "team-a/main.fraud.detector"
    assert model_of_key(key) == ("team-a", "main.fraud.detector")
    found = chain(SecurableType.PROMPT, key)
    assert found[:2] == [(SecurableType.PROMPT, key), (SecurableType.PROMPT, "team-a/*")]
    assert (SecurableType.PROMPT, "*") not in found  # default's every prompt
    assert SCHEMA in found
    assert CATALOG in found
    assert found[-3:] == [(SecurableType.WORKSPACE, "team-a"), (SecurableType.WORKSPACE, "*"),
                          (SecurableType.METASTORE, "*")]  # fmt: skip
    assert model_key("detector", "default") == model_key("detector", None) == "detector"
    assert model_key("*", "team-a") == "team-a/*"  # a grant's `*`: every model of team-a
    assert model_key("*", "default") == model_key("*", None) == "*"


def test_an_experiments_chain_holds_the_star_of_its_workspace() -> None:
    experiment = (SecurableType.EXPERIMENT, "7")
    assert chain(*experiment) == [
        experiment,
        (SecurableType.EXPERIMENT, "*"),
        (SecurableType.METASTORE, "*"),
    ]
    assert chain(*experiment, workspace="team-a") == [
        experiment, (SecurableType.EXPERIMENT, "team-a/*"),
        (SecurableType.WORKSPACE, "team-a"), (SecurableType.WORKSPACE, "*"),
        (SecurableType.METASTORE, "*"),
    ]  # fmt: skip
    every_of_a = (SecurableType.EXPERIMENT, "team-a/*")  # granting on it asks its own chain
    assert chain(*every_of_a)[1:3] == [every_of_a, (SecurableType.WORKSPACE, "team-a")]


@pytest.mark.parametrize(
    ("grants", "need", "alias", "allowed"),
    [
        ([_grant(Privilege.READ, CATALOG)], Privilege.READ, None, True),
        ([_grant(Privilege.READ, CATALOG)], Privilege.EDIT, None, False),
        ([_grant(Privilege.MANAGE, SCHEMA)], Privilege.PROMOTE, "champion", True),
        ([_grant(Privilege.EDIT, CATALOG), _grant(Privilege.READ, MODEL, deny=True)],
         Privilege.EDIT, None, False),
        ([_grant(Privilege.EDIT, MODEL), _grant(Privilege.EDIT, CATALOG, deny=True)],
         Privilege.READ, None, True),
        ([_grant(Privilege.MANAGE, MODEL), _grant(Privilege.BROWSE, CATALOG, deny=True)],
         Privilege.BROWSE, None, False),
        ([_grant(Privilege.PROMOTE, MODEL, aliases=("staging",))], Privilege.PROMOTE,
         "staging", True),
        ([_grant(Privilege.PROMOTE, MODEL, aliases=("staging",))], Privilege.PROMOTE,
         "champion", False),
        ([_grant(Privilege.ANNOTATE, MODEL)], Privilege.EDIT, None, False),
        ([_grant(Privilege.ANNOTATE, MODEL)], Privilege.ANNOTATE, None, True),
        ([], Privilege.BROWSE, None, False),
    ],
    ids=[
        "inherited-read", "read-is-not-edit", "manage-promotes", "deny-read-stops-edit",
        "deny-edit-leaves-read", "deny-browse-stops-all", "promote-own-alias",
        "promote-other-alias", "annotate-is-not-edit", "annotate", "nothing",
    ],
)  # fmt: skip
def test_decisions(grants: list[Grant], need: Privilege, alias: str | None, allowed: bool) -> None:
    assert allows(grants, need, alias=alias) is allowed


def test_nobody_grants_above_their_own(security: Any, as_admin: Any) -> None:
    alice = security.principals.create_user("alice", "password-1")
    bob = security.principals.create_user("bob", "password-2")
    security.grants.grant(alice, Privilege.MANAGE, SCHEMA)
    with identity_scope(Identity(name="alice", principal_id=alice.principal_id)):
        security.grants.grant(bob, Privilege.READ, MODEL)  # MANAGE inherited from the schema
        with pytest.raises(PermissionDenied, match="MANAGE"):
            security.grants.grant(bob, Privilege.READ, CATALOG)
        with pytest.raises(PermissionDenied, match="ownership"):
            security.grants.grant(bob, Privilege.OWNER, MODEL)
    bob_identity = Identity(name="bob", principal_id=bob.principal_id)
    assert security.grants.may(bob_identity, Privilege.READ, MODEL)
    assert not security.grants.may(bob_identity, Privilege.READ, SCHEMA)


def test_group_grants_count_for_members_and_revoke_takes_them_away(
    security: Any, as_admin: Any
) -> None:
    alice = security.principals.create_user("alice", "password-1")
    team = security.principals.create_principal(PrincipalKind.GROUP, "team")
    security.principals.set_membership("team", alice, member_of=True)
    security.grants.grant(team, Privilege.EDIT, CATALOG)
    security.epoch.refresh()
    identity = security.authenticator.basic("alice", "password-1")
    assert security.grants.may(identity, Privilege.EDIT, MODEL)
    security.grants.revoke(team, CATALOG)
    security.epoch.refresh()
    assert not security.grants.may(identity, Privilege.EDIT, MODEL)
    actions = [e.action for e in security.audit.entries(AuditQuery())]
    assert actions[-2:] == ["grant", "revoke"]
