"""WorkspaceGate: with workspaces enabled, an object in another workspace than the request's
does not exist for it, and (with --auth) a grant on a workspace reaches the objects in it."""

from __future__ import annotations

import threading
from collections.abc import Callable

from heron.entities.security import Privilege, SecurableType
from heron.entities.workspace import DEFAULT_WORKSPACE
from heron.errors import NotFound, PermissionDenied
from heron.services.access import Action, Authorizer, Identity, Policy, ResourceType
from heron.services.security.authorizer import NEEDS
from heron.store.security import OwnerStore
from heron.store.visibility import NOTHING, Visibility
from heron.store.workspaces import WorkspaceStore, current_workspace

# "May this identity hold this privilege on this securable?" (GrantService.may), with --auth.
May = Callable[[Identity, Privilege, tuple[SecurableType, str]], bool]

# What lives in a workspace: experiments (and their runs, artifacts, traces, logged models,
# datasets) and registered models (and their versions, aliases, prompts).
_INSIDE = frozenset(
    {"experiment", "run", "artifact", "trace", "logged_model", "dataset", "registered_model",
     "prompt", "model_version", "model_alias"}
)  # fmt: skip
_LISTED_BY_READ = frozenset({"run", "model_version", "dataset"})
# Made by name (the name is the id they are checked with).
_NAMED = frozenset({"registered_model", "prompt"})
# Decided on a chain of grants that holds their workspace (decisions.chain): an experiment's
# (and so its runs' and artifacts'), a model's or prompt's (and its aliases').
_CHAINED = frozenset({"experiment", "run", "artifact", "registered_model", "prompt", "model_alias"})
_CACHE_LIMIT = 100_000


class WorkspaceGate:
    """Wraps the services' authorizer when workspaces are enabled. `may` (None without
    --auth) answers from the grants: a caller needs BROWSE on a workspace other than
    `default` to reach anything in it, EDIT on it to make something there, and a privilege
    held on the workspace holds on everything in it, beside the grants on each object (a
    model's or prompt's are kept for the model of that workspace: see decisions.model_key)."""

    def __init__(
        self, inner: Authorizer, store: WorkspaceStore, owners: OwnerStore, may: May | None
    ) -> None:
        self._inner = inner
        self._store = store
        self._owners = owners
        self._may = may
        # An experiment's workspace, until a workspace is deleted (mode=SET_DEFAULT moves its
        # experiments): clear_cache runs on the next request of every process after that.
        self._homes: dict[str, str] = {}
        self._runs: dict[str, str] = {}  # a run's experiment
        self._lock = threading.Lock()

    def clear_cache(self) -> None:
        with self._lock:
            self._homes.clear()

    def admit(self, identity: Identity, policy: Policy) -> None:
        self._inner.admit(identity, policy)

    def check(self, identity: Identity, action: Action, resource: ResourceType, id_: str) -> None:
        workspace = current_workspace()
        if workspace is None or resource not in _INSIDE:
            self._inner.check(identity, action, resource, id_)
            return
        if id_:
            self._require_here(workspace, resource, id_)
        if self._governed(identity) and (id_ or action != "read"):  # a list: `visible`
            self._require_member(identity, workspace)
            # An experiment's or a model's grants are decided with its workspace's (its chain
            # holds it), so a DENY on the object wins over a grant on the workspace.
            chained = workspace != DEFAULT_WORKSPACE and resource in _CHAINED and action != "create"
            if not chained and self._holds(identity, NEEDS[action], workspace):
                return  # a token's scopes were checked outside (ScopedAuthorizer)
            if (
                workspace != DEFAULT_WORKSPACE
                and action == "create"
                and (not id_ or resource in _NAMED)
            ):
                raise PermissionDenied(
                    f"{identity.name!r} may not {action} a {resource.replace('_', ' ')} in "
                    f"workspace {workspace!r}: {NEEDS[action].value} on the workspace is "
                    "needed"
                )
        self._inner.check(identity, action, resource, id_)

    def visible(self, identity: Identity, resource: ResourceType) -> Visibility:
        workspace = current_workspace()
        inner = self._inner.visible(identity, resource)
        if workspace is None or resource not in _INSIDE or not self._governed(identity):
            return inner
        if workspace != DEFAULT_WORKSPACE and not self._holds(
            identity, Privilege.BROWSE, workspace
        ):
            return NOTHING
        need = Privilege.READ if resource in _LISTED_BY_READ else Privilege.BROWSE
        if self._holds(identity, need, workspace):  # all of it, but what is denied
            return Visibility(hidden=inner.hidden, hidden_prefixes=inner.hidden_prefixes)
        return inner

    def created(self, identity: Identity, resource: ResourceType, id_: str) -> None:
        self._inner.created(identity, resource, id_)

    def renamed(self, resource: ResourceType, id_: str, new_id: str) -> None:
        self._inner.renamed(resource, id_, new_id)

    def removed(self, resource: ResourceType, id_: str) -> None:
        if resource == "workspace":
            self.clear_cache()  # its objects may have moved to `default`
        self._inner.removed(resource, id_)

    # -- the rules ---------------------------------------------------------------------------

    def _governed(self, identity: Identity) -> bool:
        return self._may is not None and identity.authenticated and not identity.is_admin

    def _holds(self, identity: Identity, need: Privilege, workspace: str) -> bool:
        assert self._may is not None  # noqa: S101 (only asked when governed)
        return self._may(identity, need, (SecurableType.WORKSPACE, workspace))

    def _require_member(self, identity: Identity, workspace: str) -> None:
        if workspace != DEFAULT_WORKSPACE and not self._holds(
            identity, Privilege.BROWSE, workspace
        ):
            raise PermissionDenied(
                f"{identity.name!r} has no access to workspace {workspace!r}: a grant on it "
                "is needed"
            )

    def _require_here(self, workspace: str, resource: ResourceType, id_: str) -> None:
        experiment_id: str | None = None
        if resource == "experiment":
            experiment_id = id_
        elif resource == "run":
            experiment_id = self._experiment_of_run(id_)
        elif resource == "artifact":
            experiment_id = self._owners.experiment_of_location(id_)
        if experiment_id is None:
            return  # a model (found by name in the workspace by the store), or nothing
        home = self._home(experiment_id)
        if home is not None and home != workspace:
            what = {"experiment": "Experiment with id", "run": "Run with id"}.get(
                resource, "artifact"
            )
            raise NotFound(f"No {what}={id_} exists in workspace {workspace!r}")

    def _home(self, experiment_id: str) -> str | None:
        cached = self._homes.get(experiment_id)
        if cached is not None:
            return cached
        home = self._store.workspace_of_experiment(experiment_id)
        if home is None:
            return None  # no such experiment yet: not remembered
        with self._lock:
            if len(self._homes) >= _CACHE_LIMIT:
                self._homes.clear()
            self._homes[experiment_id] = home
        return home

    def _experiment_of_run(self, run_id: str) -> str | None:
        found = self._runs.get(run_id)
        if found is None:
            found = self._owners.experiment_of_run(run_id)
            if found is not None:  # a run's experiment never changes
                with self._lock:
                    if len(self._runs) >= _CACHE_LIMIT:
                        self._runs.clear()
                    self._runs[run_id] = found
        return found
