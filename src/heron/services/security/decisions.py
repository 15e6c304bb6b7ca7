"""The one rule that answers "may these grants do this?", and where an object's grants live.

A grant of a privilege allows it and everything it implies (MANAGE implies EDIT, which implies
READ, ...). A DENY of a privilege refuses every action that needs it or something stronger, so
DENY READ also stops EDIT, and DENY BROWSE stops everything. A DENY wins over any grant,
inherited or not. PROMOTE may be limited to some aliases."""

from __future__ import annotations

from collections.abc import Iterable

from heron.entities.security import Grant, Privilege, SecurableType, closure

Securable = tuple[SecurableType, str]
METASTORE: Securable = (SecurableType.METASTORE, "*")


def allows(grants: Iterable[Grant], need: Privilege, *, alias: str | None = None) -> bool:
    needs = closure(need)
    allowed = False
    for grant in grants:
        if grant.deny:
            if grant.privilege in needs:
                return False
        elif need in closure(grant.privilege):
            limited = grant.privilege == Privilege.PROMOTE and grant.aliases is not None
            if limited and (alias is None or alias not in (grant.aliases or ())):
                continue
            allowed = True
    return allowed


def effective(grants: Iterable[Grant]) -> frozenset[Privilege]:
    """Every privilege these grants allow (PROMOTE counted even when limited to aliases)."""
    held = list(grants)
    found = {p for p in Privilege if allows(held, p)}
    limited = any(g.privilege == Privilege.PROMOTE and not g.deny for g in held)
    denied = any(g.deny and g.privilege in closure(Privilege.PROMOTE) for g in held)
    if limited and not denied:
        found.add(Privilege.PROMOTE)
    return frozenset(found)


def model_chain(name: str) -> list[Securable]:
    """A registered model's securables, nearest first: the model, its schema and catalog when
    its name is `catalog.schema.model`, each type's `*`, then the whole server."""
    chain: list[Securable] = [
        (SecurableType.REGISTERED_MODEL, name),
        (SecurableType.REGISTERED_MODEL, "*"),
    ]
    parts = name.split(".")
    if len(parts) == 3 and all(parts):
        chain += [
            (SecurableType.SCHEMA, f"{parts[0]}.{parts[1]}"),
            (SecurableType.SCHEMA, "*"),
            (SecurableType.CATALOG, parts[0]),
            (SecurableType.CATALOG, "*"),
        ]
    return [*chain, METASTORE]


def chain(securable_type: SecurableType, securable_id: str) -> list[Securable]:
    """The securables whose grants apply to an object, nearest first."""
    if securable_type in (SecurableType.REGISTERED_MODEL, SecurableType.PROMPT):
        found = model_chain(securable_id)
        if securable_type == SecurableType.PROMPT:
            found[:2] = [(SecurableType.PROMPT, securable_id), (SecurableType.PROMPT, "*")]
        return found
    if securable_type == SecurableType.SCHEMA:
        catalog = securable_id.split(".", 1)[0]
        return [
            (SecurableType.SCHEMA, securable_id), (SecurableType.SCHEMA, "*"),
            (SecurableType.CATALOG, catalog), (SecurableType.CATALOG, "*"), METASTORE,
        ]  # fmt: skip
    if securable_type == SecurableType.METASTORE:
        return [METASTORE]
    return [(securable_type, securable_id), (securable_type, "*"), METASTORE]
