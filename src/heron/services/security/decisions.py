"""The one rule that answers "may these grants do this?", and where an object's grants live.

A grant of a privilege allows it and everything it implies (MANAGE implies EDIT, which implies
READ, ...). A DENY of a privilege refuses every action that needs it or something stronger, so
DENY READ also stops EDIT, and DENY BROWSE stops everything. A DENY wins over any grant,
inherited or not. PROMOTE may be limited to some aliases."""

from __future__ import annotations

from collections.abc import Iterable

from heron.entities.security import Grant, Privilege, SecurableType, closure
from heron.store.visibility import NOTHING, Visibility

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


_NESTED = (SecurableType.REGISTERED_MODEL, SecurableType.PROMPT)


def wide_securables(kind: SecurableType) -> set[Securable]:
    """The securables whose grants reach every object of `kind`."""
    found = {(kind, "*"), METASTORE}
    if kind in _NESTED:
        found |= {(SecurableType.SCHEMA, "*"), (SecurableType.CATALOG, "*")}
    return found


def visibility(grants: Iterable[Grant], kind: SecurableType, need: Privilege) -> Visibility:
    """Which objects of `kind` a caller holding `grants` (on objects of that kind, on their
    catalogs and schemas, on `*` and on the metastore) may `need`: what its searches show.
    The same rule as `allows`, for all objects at once: a DENY anywhere above an object hides
    it, whatever else is granted."""
    held = list(grants)
    needs = closure(need)
    wide_keys = wide_securables(kind)
    wide = [g for g in held if (g.securable_type, g.securable_id) in wide_keys]
    if any(g.deny and g.privilege in needs for g in wide):
        return NOTHING
    per_object: dict[tuple[SecurableType, str], list[Grant]] = {}
    for grant in held:
        key = (grant.securable_type, grant.securable_id)
        if key not in wide_keys:
            per_object.setdefault(key, []).append(grant)
    shown: set[str] = set()
    hidden: set[str] = set()
    prefixes: list[str] = []
    hidden_prefixes: list[str] = []
    for (securable_type, securable_id), own in sorted(per_object.items()):
        denied = any(g.deny and g.privilege in needs for g in own)
        if not denied and not allows(own, need):
            continue
        if securable_type == kind:
            (hidden if denied else shown).add(securable_id)
        elif kind in _NESTED and securable_type in (SecurableType.CATALOG, SecurableType.SCHEMA):
            (hidden_prefixes if denied else prefixes).append(securable_id + ".")
    if allows(wide, need):
        return Visibility(hidden=frozenset(hidden), hidden_prefixes=tuple(hidden_prefixes))
    return Visibility(
        ids=frozenset(shown), prefixes=tuple(prefixes),
        hidden=frozenset(hidden), hidden_prefixes=tuple(hidden_prefixes),
    )  # fmt: skip
