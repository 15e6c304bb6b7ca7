"""The one rule that answers "may these grants do this?", and where an object's grants live.

A grant of a privilege allows it and everything it implies (MANAGE implies EDIT, which implies
READ, ...). A DENY of a privilege refuses every action that needs it or something stronger, so
DENY READ also stops EDIT, and DENY BROWSE stops everything. A DENY wins over any grant,
inherited or not. PROMOTE may be limited to some aliases."""

from __future__ import annotations

from collections.abc import Iterable

from heron.entities.security import Grant, Privilege, SecurableType, closure
from heron.entities.workspace import DEFAULT_WORKSPACE
from heron.store.visibility import NOTHING, Visibility

Securable = tuple[SecurableType, str]
METASTORE: Securable = (SecurableType.METASTORE, "*")
# Registered models and prompts are named per workspace: their grants are kept under
# `<workspace>/<name>` outside `default` (model names cannot hold a '/'), under the bare name
# in `default` (as before workspaces), and `*` means every model of the server. An MLflow
# role belongs to a workspace: its `*` is kept as `<workspace>/*`, that workspace's models.
_IN = "/"
MODEL_TYPES = (SecurableType.REGISTERED_MODEL, SecurableType.PROMPT)  # kept by model_key


def model_key(name: str, workspace: str | None) -> str:
    """Where the grants of model (or prompt) `name` of `workspace` are kept."""
    if name == "*" or workspace is None or workspace == DEFAULT_WORKSPACE:
        return name
    return f"{workspace}{_IN}{name}"


def every_model_key(workspace: str) -> str:
    """The key of every model of `workspace` (`default` too): a role's `*`."""
    return f"{workspace}{_IN}*"


def model_of_key(key: str) -> tuple[str, str]:
    """The workspace and name a model's grant key stands for (`model_key` reversed)."""
    workspace, _, name = key.rpartition(_IN)
    return workspace or DEFAULT_WORKSPACE, name


def described(securable: Securable) -> str:
    """A securable as messages name it: `registered model 'm' of workspace 'team-a'`."""
    kind, key = securable
    what = kind.value.replace("_", " ")
    if kind not in MODEL_TYPES or key == "*":
        return f"{what} {key!r}"
    workspace, name = model_of_key(key)
    return f"{what} {name!r}" + (
        "" if workspace == DEFAULT_WORKSPACE else f" of workspace {workspace!r}"
    )


def workspace_prefix(workspace: str) -> str:
    """The start of the keys of every model and prompt of `workspace` ("" for `default`)."""
    return "" if workspace == DEFAULT_WORKSPACE else f"{workspace}{_IN}"


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


def model_chain(key: str) -> list[Securable]:
    """A registered model's securables, nearest first: the model (by its key), its schema and
    catalog when its name is `catalog.schema.model`, each type's `*`, its workspace when not
    `default`, then the whole server."""
    workspace, name = model_of_key(key)
    chain: list[Securable] = [
        (SecurableType.REGISTERED_MODEL, key),
        (SecurableType.REGISTERED_MODEL, every_model_key(workspace)),
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
    if workspace != DEFAULT_WORKSPACE:
        chain += [(SecurableType.WORKSPACE, workspace), (SecurableType.WORKSPACE, "*")]
    return [*chain, METASTORE]


def chain(securable_type: SecurableType, securable_id: str) -> list[Securable]:
    """The securables whose grants apply to an object, nearest first."""
    if securable_type in (SecurableType.REGISTERED_MODEL, SecurableType.PROMPT):
        found = model_chain(securable_id)
        if securable_type == SecurableType.PROMPT:
            model = SecurableType.REGISTERED_MODEL
            found = [(SecurableType.PROMPT if t == model else t, i) for t, i in found]
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


_NESTED = MODEL_TYPES


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
