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
# in `default` (as before workspaces). Experiments, models and prompts live in a workspace, so
# their `*` is a workspace's: `<workspace>/*` outside `default`, the bare `*` in `default` (the
# key every grant on `*` had before workspaces, so those keep working with no migration). A
# grant meant for every workspace is one on the workspace `*`, or on the metastore.
_IN = "/"
MODEL_TYPES = (SecurableType.REGISTERED_MODEL, SecurableType.PROMPT)  # kept by model_key
IN_WORKSPACES = (SecurableType.EXPERIMENT, *MODEL_TYPES)  # whose `*` is a workspace's


def model_key(name: str, workspace: str | None) -> str:
    """Where the grants of model (or prompt) `name` of `workspace` are kept (`*`: every model
    of that workspace)."""
    if name == "*":
        return every_key(workspace)
    if workspace is None or workspace == DEFAULT_WORKSPACE:
        return name
    return f"{workspace}{_IN}{name}"


def every_key(workspace: str | None) -> str:
    """The key of every experiment, model or prompt of `workspace` (None: workspaces off)."""
    if workspace is None or workspace == DEFAULT_WORKSPACE:
        return "*"
    return f"{workspace}{_IN}*"


def is_every_key(key: str) -> bool:
    """Whether `key` (of an experiment, model or prompt) stands for all of a workspace's."""
    return key == "*" or key.endswith(_IN + "*")


def model_of_key(key: str) -> tuple[str, str]:
    """The workspace and name a model's grant key stands for (`model_key` reversed)."""
    workspace, _, name = key.rpartition(_IN)
    return workspace or DEFAULT_WORKSPACE, name


def placed(kind: SecurableType, key: str) -> tuple[str | None, str]:
    """The workspace a grant's securable is in and its name there; None for what is not kept
    per workspace (an experiment's id is the server's, as are catalogs and endpoints)."""
    if kind in MODEL_TYPES or (kind in IN_WORKSPACES and is_every_key(key)):
        return model_of_key(key)
    return None, key


def described(securable: Securable) -> str:
    """A securable as messages name it: `registered model 'm' of workspace 'team-a'`."""
    kind, key = securable
    what = kind.value.replace("_", " ")
    workspace, name = placed(kind, key)
    if workspace is None or (workspace == DEFAULT_WORKSPACE and name != "*"):
        return f"{what} {name!r}"
    return f"{what} {name!r} of workspace {workspace!r}"


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


def _in_workspace_chain(workspace: str) -> list[Securable]:
    if workspace == DEFAULT_WORKSPACE:
        return []
    return [(SecurableType.WORKSPACE, workspace), (SecurableType.WORKSPACE, "*")]


def model_chain(key: str) -> list[Securable]:
    """A registered model's securables, nearest first: the model (by its key), every model of
    its workspace, its schema and catalog when its name is `catalog.schema.model`, its
    workspace when not `default`, then the whole server."""
    workspace, name = model_of_key(key)
    chain: list[Securable] = [
        (SecurableType.REGISTERED_MODEL, key),
        (SecurableType.REGISTERED_MODEL, every_key(workspace)),
    ]
    parts = name.split(".")
    if len(parts) == 3 and all(parts):
        chain += [
            (SecurableType.SCHEMA, f"{parts[0]}.{parts[1]}"),
            (SecurableType.SCHEMA, "*"),
            (SecurableType.CATALOG, parts[0]),
            (SecurableType.CATALOG, "*"),
        ]
    return [*chain, *_in_workspace_chain(workspace), METASTORE]


def chain(
    securable_type: SecurableType, securable_id: str, *, workspace: str | None = None
) -> list[Securable]:
    """The securables whose grants apply to an object, nearest first. An experiment's are
    those of `workspace`, the one it is in (None: workspaces off, or `default`)."""
    if securable_type in (SecurableType.REGISTERED_MODEL, SecurableType.PROMPT):
        found = model_chain(securable_id)
        if securable_type == SecurableType.PROMPT:
            model = SecurableType.REGISTERED_MODEL
            found = [(SecurableType.PROMPT if t == model else t, i) for t, i in found]
        return found
    if securable_type == SecurableType.EXPERIMENT:
        if is_every_key(securable_id):
            workspace = model_of_key(securable_id)[0]
        here = workspace or DEFAULT_WORKSPACE
        return [
            (securable_type, securable_id), (securable_type, every_key(here)),
            *_in_workspace_chain(here), METASTORE,
        ]  # fmt: skip
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


def wide_securables(kind: SecurableType, workspace: str | None = None) -> set[Securable]:
    """The securables whose grants reach every object of `kind` (of `workspace`, for the
    kinds kept per workspace)."""
    every = every_key(workspace) if kind in IN_WORKSPACES else "*"
    found = {(kind, every), METASTORE}
    if kind in _NESTED:
        found |= {(SecurableType.SCHEMA, "*"), (SecurableType.CATALOG, "*")}
    return found


def visibility(
    grants: Iterable[Grant], kind: SecurableType, need: Privilege, workspace: str | None = None
) -> Visibility:
    """Which objects of `kind` a caller holding `grants` (on objects of that kind, on their
    catalogs and schemas, on `*` and on the metastore) may `need`: what its searches of
    `workspace` show. The same rule as `allows`, for all objects at once: a DENY anywhere
    above an object hides it, whatever else is granted. Another workspace's `*` counts for
    nothing here."""
    wide_keys = wide_securables(kind, workspace)
    held = [
        g for g in grants
        if g.securable_type not in IN_WORKSPACES or not is_every_key(g.securable_id)
        or (g.securable_type, g.securable_id) in wide_keys
    ]  # fmt: skip
    needs = closure(need)
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
