"""GrantAuthorizer: the services' questions ("may this caller do this to that object?")
answered from grants.

Each object is decided on its securable: a run, an artifact file and (by the services) a
trace, an assessment and a logged model on their experiment; a model version and an alias on
their registered model, through its schema and catalog; an evaluation dataset on its
experiments (or its creator). The privilege an action needs:

| action   | needs    | e.g.                                                     |
|----------|----------|----------------------------------------------------------|
| read     | READ     | get a run, download an artifact, read a model's versions |
| annotate | ANNOTATE | feedback, expectations, a comment on a version           |
| create   | EDIT     | a run in an experiment, a schema's new model             |
| update   | EDIT     | log to a run, a new version, tags and descriptions       |
| promote  | PROMOTE  | move an alias (maybe only some aliases) or a stage       |
| execute  | EXECUTE  | query a serving endpoint                                 |
| delete   | MANAGE   | delete an experiment, a run, a model, an endpoint        |

Lists ask with an empty id (allowed to every caller) and show what `visible` says: objects
the caller may BROWSE (READ for the versions of models). Making a new experiment, model,
prompt or endpoint is allowed to every caller, who becomes its owner; a model under
`catalog.schema` needs EDIT on the schema. Answers come from memory: a run's experiment is
read once (it never changes) and the grants of an object once per security epoch."""

from __future__ import annotations

import threading
from collections.abc import Callable

from heron.entities.security import Privilege, SecurableType
from heron.entities.workspace import DEFAULT_WORKSPACE
from heron.errors import PermissionDenied
from heron.services.access import Action, Identity, Policy, ResourceType
from heron.services.security import decisions
from heron.services.security.audit import AuditTrail
from heron.services.security.decisions import (
    METASTORE,
    Securable,
    model_key,
    model_of_key,
    workspace_prefix,
)
from heron.services.security.grant_service import GrantService
from heron.store.security import GrantStore, NewGrant, OwnerStore
from heron.store.visibility import EVERYTHING, NOTHING, Visibility
from heron.store.workspaces import current_workspace

NEEDS: dict[str, Privilege] = {
    "read": Privilege.READ,
    "annotate": Privilege.ANNOTATE,
    "create": Privilege.EDIT,
    "update": Privilege.EDIT,
    "promote": Privilege.PROMOTE,
    "execute": Privilege.EXECUTE,
    "delete": Privilege.MANAGE,
}
_OWNED: dict[str, SecurableType] = {
    "experiment": SecurableType.EXPERIMENT,
    "registered_model": SecurableType.REGISTERED_MODEL,
    "prompt": SecurableType.PROMPT,
    "serving_endpoint": SecurableType.SERVING_ENDPOINT,
    "workspace": SecurableType.WORKSPACE,
}
_MODELS = decisions.MODEL_TYPES
# Decided by the security services themselves (admins, or one's own user and tokens).
_SELF_GOVERNED = ("principal", "token", "grant", "audit")
_CACHE_LIMIT = 100_000


class GrantAuthorizer:
    def __init__(
        self, grants: GrantService, store: GrantStore, owners: OwnerStore, audit: AuditTrail
    ) -> None:
        self._grants = grants
        self._store = store
        self._owners = owners
        self._audit = audit
        self._runs: dict[str, str] = {}  # a run's experiment never changes
        self._places: dict[str, str | None] = {}  # an artifact directory's experiment
        self._prompts: dict[str, bool] = {}
        self._lock = threading.Lock()
        self._rules: dict[str, Callable[[Identity, Action, str], None]] = {
            "experiment": self._experiment,
            "run": self._run,
            "artifact": self._artifact,
            "dataset": self._dataset,
            "registered_model": self._model,
            "prompt": self._model,
            "model_alias": self._alias,
            "namespace": self._namespace,
            "serving_endpoint": self._endpoint,
            "webhook": self._server_wide,
            "deployment_job": self._deployment_job,
            "workspace": self._workspace,
        }

    def clear_cache(self) -> None:
        """Forgets what may have changed: which names are prompts, where locations lead."""
        with self._lock:
            self._places.clear()
            self._prompts.clear()

    # -- the Authorizer protocol -------------------------------------------------------------

    def admit(self, identity: Identity, policy: Policy) -> None:
        return None

    def check(self, identity: Identity, action: Action, resource: ResourceType, id_: str) -> None:
        if identity.is_admin or resource in _SELF_GOVERNED or resource == "judge_cache":
            return
        rule = self._rules.get(resource)
        if rule is None or not identity.authenticated:
            raise PermissionDenied(f"{identity.name!r} may not {action} a {_named(resource)}")
        rule(identity, action, id_)

    def visible(self, identity: Identity, resource: ResourceType) -> Visibility:
        if identity.is_admin:
            return EVERYTHING
        kind, need = {
            "experiment": (SecurableType.EXPERIMENT, Privilege.BROWSE),
            "registered_model": (SecurableType.REGISTERED_MODEL, Privilege.BROWSE),
            "model_version": (SecurableType.REGISTERED_MODEL, Privilege.READ),
            "dataset": (SecurableType.EXPERIMENT, Privilege.READ),
            "run": (SecurableType.EXPERIMENT, Privilege.READ),  # of readable experiments
            "prompt": (SecurableType.PROMPT, Privilege.BROWSE),
            "serving_endpoint": (SecurableType.SERVING_ENDPOINT, Privilege.BROWSE),
            "namespace": (SecurableType.CATALOG, Privilege.BROWSE),
            "workspace": (SecurableType.WORKSPACE, Privilege.BROWSE),
        }.get(resource, (None, Privilege.BROWSE))
        if kind is None:
            raise PermissionDenied(f"{identity.name!r} may not list {_named(resource)}s")
        around = {t for t, _ in decisions.wide_securables(kind)}
        if kind in _MODELS:
            around |= {SecurableType.SCHEMA, SecurableType.CATALOG}
        held = self._grants.grants_of(identity, sorted({kind, *around}))
        found = decisions.visibility(held, kind, need, current_workspace())
        return _in_workspace(found) if kind in _MODELS else found

    def created(self, identity: Identity, resource: ResourceType, id_: str) -> None:
        securable = _securable(resource, id_)
        if securable is None or identity.principal_id is None:
            return
        self._store.add_grant(
            NewGrant(
                principal_id=identity.principal_id, privilege=Privilege.OWNER,
                securable_type=securable[0], securable_id=securable[1],
                created_by=identity.name[:256],
            )
        )  # fmt: skip
        self._audit.change(
            "grant", securable[0].value, securable[1],
            after={"principal": identity.name, "privilege": Privilege.OWNER.value},
        )  # fmt: skip

    def renamed(self, resource: ResourceType, id_: str, new_id: str) -> None:
        """A model or prompt renamed in the request's workspace; or a workspace's models
        moved to workspace `new_id` (`default`, when it is deleted with mode=SET_DEFAULT)."""
        if resource in ("registered_model", "prompt"):
            workspace = current_workspace()
            self._store.move_grants(
                _MODELS, model_key(id_, workspace), model_key(new_id, workspace)
            )
            self.clear_cache()
        elif resource == "workspace":
            # What was granted on all of the workspace's objects ends with it: moved, it
            # would reach every object of the other workspace.
            self._store.drop_grants(decisions.IN_WORKSPACES, decisions.every_key(id_))
            self._store.move_prefixed_grants(
                _MODELS, workspace_prefix(id_), workspace_prefix(new_id)
            )
            self.clear_cache()

    def removed(self, resource: ResourceType, id_: str) -> None:
        if resource == "workspace":  # what was granted on its models (and its `*`s), left
            self._store.drop_prefixed_grants(decisions.IN_WORKSPACES, workspace_prefix(id_))
        securable = _securable(resource, id_)
        if securable is not None:
            kinds = _MODELS if securable[0] in _MODELS else (securable[0],)
            self._store.drop_grants(kinds, securable[1])
            self.clear_cache()

    # -- one rule per resource ---------------------------------------------------------------

    def _require(
        self,
        identity: Identity,
        need: Privilege,
        securable: Securable,
        *,
        alias: str | None = None,
        what: str = "",
    ) -> None:
        if not self._grants.may(identity, need, securable, alias=alias):
            raise PermissionDenied(
                f"{identity.name!r} may not {what or 'do that'}: {need.value} on "
                f"{decisions.described(securable)} is needed"
            )

    def _experiment(self, identity: Identity, action: Action, experiment_id: str) -> None:
        if not experiment_id:
            if action in ("read", "create"):  # a list (filtered), or a new experiment
                return
            self._server_wide(identity, action, "")
            return
        self._require(
            identity, NEEDS[action], (SecurableType.EXPERIMENT, experiment_id),
            what=f"{action} experiment {experiment_id}",
        )  # fmt: skip

    def _run(self, identity: Identity, action: Action, run_id: str) -> None:
        experiment_id = self._runs.get(run_id)
        if experiment_id is None:
            experiment_id = self._owners.experiment_of_run(run_id)
            if experiment_id is None:
                return  # no such run: the store answers NotFound
            with self._lock:
                if len(self._runs) >= _CACHE_LIMIT:
                    self._runs.clear()
                self._runs[run_id] = experiment_id
        self._require(
            identity, NEEDS[action], (SecurableType.EXPERIMENT, experiment_id),
            what=f"{action} run {run_id}",
        )  # fmt: skip

    def _artifact(self, identity: Identity, action: Action, location: str) -> None:
        directory = location.rsplit("/", 1)[0]
        if directory in self._places:
            experiment_id = self._places[directory]
        else:
            experiment_id = self._owners.experiment_of_location(location)
            with self._lock:
                if len(self._places) >= _CACHE_LIMIT:
                    self._places.clear()
                self._places[directory] = experiment_id
        if experiment_id is None:
            raise PermissionDenied(
                f"{identity.name!r} may not {action} {location!r}: it is no experiment's"
            )
        need = Privilege.READ if action == "read" else Privilege.EDIT
        self._require(
            identity, need, (SecurableType.EXPERIMENT, experiment_id),
            what=f"{action} the artifacts of experiment {experiment_id}",
        )  # fmt: skip

    def _dataset(self, identity: Identity, action: Action, dataset_id: str) -> None:
        if action == "create" or (action == "read" and not dataset_id):
            return  # a new dataset (its experiments are checked), or a list of some
        owners = self._owners.dataset_owners(dataset_id) if dataset_id else None
        if owners is None or owners.created_by == identity.name:
            return  # no such dataset (the store answers NotFound), or its creator
        need = NEEDS[action]
        for experiment_id, workspace in zip(
            owners.experiment_ids, owners.workspaces, strict=True
        ):  # each experiment's grants are those of its own workspace
            securable = (SecurableType.EXPERIMENT, experiment_id)
            if self._grants.may(identity, need, securable, workspace=workspace):
                return
        raise PermissionDenied(
            f"{identity.name!r} may not {action} dataset {dataset_id}: {need.value} on one of "
            "its experiments is needed"
        )

    def _model(self, identity: Identity, action: Action, name: str) -> None:
        if not name:
            if action == "read":
                return  # a search: filtered by `visible`
            self._server_wide(identity, action, "")
            return
        if action == "create":
            parts = name.split(".")
            if len(parts) == 3 and all(parts):
                schema = (SecurableType.SCHEMA, f"{parts[0]}.{parts[1]}")
                self._require(identity, Privilege.EDIT, schema, what=f"create model {name!r}")
            return
        self._require(identity, NEEDS[action], self._model_securable(name),
                      what=f"{action} model {name!r}")  # fmt: skip

    def _alias(self, identity: Identity, action: Action, named: str) -> None:
        name, _, alias = named.rpartition("@")
        self._require(
            identity, Privilege.PROMOTE, self._model_securable(name), alias=alias,
            what=f"move alias @{alias} of model {name!r}",
        )  # fmt: skip

    def _model_securable(self, name: str) -> Securable:
        """The model or prompt `name` of the request's workspace."""
        key = model_key(name, current_workspace())
        prompt = self._prompts.get(key)
        if prompt is None:
            prompt = self._owners.is_prompt(name)  # in the request's workspace
            with self._lock:
                if len(self._prompts) >= _CACHE_LIMIT:
                    self._prompts.clear()
                self._prompts[key] = prompt
        return (SecurableType.PROMPT if prompt else SecurableType.REGISTERED_MODEL, key)

    def _namespace(self, identity: Identity, action: Action, name: str) -> None:
        if not name:
            if action == "read":
                return
            self._server_wide(identity, action, "")
            return
        kind = SecurableType.SCHEMA if "." in name else SecurableType.CATALOG
        if action == "create":
            if kind == SecurableType.CATALOG:
                self._server_wide(identity, action, name)
                return
            catalog = (SecurableType.CATALOG, name.split(".", 1)[0])
            self._require(identity, Privilege.MANAGE, catalog, what=f"create schema {name!r}")
            return
        need = Privilege.BROWSE if action == "read" else NEEDS[action]
        self._require(identity, need, (kind, name), what=f"{action} {kind.value} {name!r}")

    def _endpoint(self, identity: Identity, action: Action, name: str) -> None:
        if action == "create" or (action == "read" and not name):
            return  # a new endpoint, or a list (filtered)
        if not name:
            self._server_wide(identity, action, "")
            return
        self._require(
            identity, NEEDS[action], (SecurableType.SERVING_ENDPOINT, name),
            what=f"{action} serving endpoint {name!r}",
        )  # fmt: skip

    def _deployment_job(self, identity: Identity, action: Action, job_id: str) -> None:
        """Job definitions are read by every signed-in user (a model's page shows its job);
        writing one decides what runs on every model it is attached to (custom tasks
        included), so it is the server's managers' (attaching one is EDIT on the model)."""
        if action != "read":
            self._server_wide(identity, action, job_id)

    def _workspace(self, identity: Identity, action: Action, name: str) -> None:
        """Making a workspace is the server's managers'; seeing one needs BROWSE on it (the
        default workspace is everyone's); changing or deleting one, MANAGE on it."""
        if action == "create" or not name:
            if action == "read":
                return  # a list: filtered by `visible`
            self._server_wide(identity, action, name)
            return
        if action == "read" and name == "default":
            return
        need = Privilege.BROWSE if action == "read" else Privilege.MANAGE
        self._require(
            identity, need, (SecurableType.WORKSPACE, name), what=f"{action} workspace {name!r}"
        )

    def _server_wide(self, identity: Identity, action: Action, id_: str) -> None:
        """What concerns the whole server (webhooks, catalogs, replicas): MANAGE on it."""
        self._require(identity, Privilege.MANAGE, METASTORE, what=f"{action} that")


def _securable(resource: ResourceType, id_: str) -> Securable | None:
    if resource == "namespace":
        kind = SecurableType.SCHEMA if "." in id_ else SecurableType.CATALOG
        return kind, id_
    owned = _OWNED.get(resource)
    if owned is None or not id_:
        return None
    return owned, model_key(id_, current_workspace()) if owned in _MODELS else id_


def _in_workspace(found: Visibility) -> Visibility:
    """Models' visibility by name within the request's workspace, from one by grant key: the
    keys of other workspaces' models are left out."""
    here = current_workspace() or DEFAULT_WORKSPACE

    def names(keys: frozenset[str]) -> frozenset[str]:
        return frozenset(name for workspace, name in map(model_of_key, keys) if workspace == here)

    hidden = names(found.hidden)
    if "*" in hidden:  # denied every model of the workspace
        return NOTHING
    ids = None if found.ids is None else names(found.ids)
    return Visibility(
        ids=None if ids is not None and "*" in ids else ids, prefixes=found.prefixes,
        hidden=hidden, hidden_prefixes=found.hidden_prefixes,
    )  # fmt: skip


def _named(resource: str) -> str:
    return resource.replace("_", " ")
