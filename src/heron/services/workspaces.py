"""WorkspaceService: MLflow's workspaces (tenants that hold their own experiments and
registered models), made, read, changed and deleted as their grants allow."""

from __future__ import annotations

import re
from collections.abc import Sequence

from heron.entities.workspace import DEFAULT_WORKSPACE, Workspace
from heron.errors import InvalidParameter, NotFound
from heron.services import validation as v
from heron.services.access import Authorizer, authorize, created, listing
from heron.services.changes import changed
from heron.store.workspaces import WorkspaceStore, current_workspace

MAX_NAME = 63  # workspaces.name, experiments.workspace, registered_models.workspace
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
# Path segments MLflow's server and UI route on.
_RESERVED = frozenset({"workspaces", "api", "ajax-api", "static-files"})
MODES = ("RESTRICT", "SET_DEFAULT", "CASCADE")
# The cookie the UI's switcher sets: the workspace of a request that names none in its header.
UI_COOKIE = "heron_workspace"


def check_name(name: str) -> str:
    """A workspace's name as MLflow takes it: 2 to 63 lowercase letters, digits and inner
    hyphens, not one of the paths the server routes on."""
    if not 2 <= len(name) <= MAX_NAME:
        raise InvalidParameter(
            f"Workspace name {name[:80]!r} must be between 2 and {MAX_NAME} characters."
        )
    if not _NAME.fullmatch(name):
        raise InvalidParameter(
            f"Workspace name {name!r} must match the pattern ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ "
            "(lowercase alphanumeric with optional internal hyphens)."
        )
    if name in _RESERVED:
        raise InvalidParameter(f"Workspace name {name!r} is reserved: choose another")
    return name


def refuse_trace_archival(location: str | None, retention: str | None) -> None:
    """MLflow's trace archival settings of a workspace (`trace_archival_config`): Heron keeps
    every trace's spans in its database and archives none, so a setting would be stored and
    ignored. An empty value (MLflow's "inherit the server's") is accepted: it asks nothing."""
    for field, value in (("location", location), ("retention", retention)):
        if value is not None and value.strip():
            raise InvalidParameter(
                f"trace_archival_config.{field} cannot be set: Heron does not archive traces "
                "(its server-info says trace_archival_enabled: false), so the setting would "
                "be ignored. Leave trace_archival_config out; to delete old traces, set the "
                "experiment tag heron.trace.retentionDays and run `heron traces prune`"
            )


def _fields(workspace: Workspace) -> dict[str, str | None]:
    return {
        "description": workspace.description,
        "default_artifact_root": workspace.default_artifact_root,
    }


class WorkspaceService:
    def __init__(
        self, store: WorkspaceStore, authorizer: Authorizer, *, artifact_roots: Sequence[str]
    ) -> None:
        self._store = store
        self._authorizer = authorizer
        self._artifact_roots = tuple(r.rstrip("/") for r in artifact_roots)

    def _check_root(self, root: str | None) -> str | None:
        """A workspace's default_artifact_root: inside the artifact roots the server allows,
        as an experiment's own artifact_location must be."""
        if not root:
            return root
        return v.confined_location(
            "default_artifact_root", root, self._artifact_roots,
            "Choose a location under one of them, such as <root>/<workspace name>.",
        )  # fmt: skip

    def default_root(self) -> str | None:
        """The default_artifact_root of the request's workspace (None when it has none, or
        workspaces are off): where its new experiments keep their artifacts."""
        name = current_workspace()
        if name is None:
            return None
        try:
            return self._store.get_workspace(name).default_artifact_root
        except NotFound:
            return None

    def create_workspace(
        self, name: str, *, description: str | None, default_artifact_root: str | None
    ) -> Workspace:
        check_name(name)
        authorize(self._authorizer, "create", "workspace", name)
        default_artifact_root = self._check_root(default_artifact_root)
        made = self._store.create_workspace(
            Workspace(
                name=name, description=description, default_artifact_root=default_artifact_root
            )
        )
        created(self._authorizer, "workspace", name)
        changed("workspace", name, after=_fields(made))
        return made

    def get_workspace(self, name: str) -> Workspace:
        authorize(self._authorizer, "read", "workspace", name)
        return self._store.get_workspace(name)

    def exists(self, name: str) -> bool:
        """Whether a request may name `name` as its workspace (no decision: the objects in it
        are decided on when reached)."""
        return name == DEFAULT_WORKSPACE or self._store.exists(name)

    def list_workspaces(self) -> list[Workspace]:
        """The workspaces the caller may see (`default` always)."""
        shown = listing(self._authorizer, "workspace")
        return [
            w
            for w in self._store.list_workspaces()
            if w.name == DEFAULT_WORKSPACE or shown.shows(w.name)
        ]

    def update_workspace(
        self, name: str, *, description: str | None, default_artifact_root: str | None
    ) -> Workspace:
        authorize(self._authorizer, "update", "workspace", name)
        default_artifact_root = self._check_root(default_artifact_root)
        before = self._store.get_workspace(name)
        after = self._store.update_workspace(
            name, description=description, default_artifact_root=default_artifact_root
        )
        changed("workspace", name, before=_fields(before), after=_fields(after))
        return after

    def delete_workspace(self, name: str, mode: str = "RESTRICT") -> None:
        if mode not in MODES:
            raise InvalidParameter(
                f"Invalid workspace deletion mode {mode!r}. Expected one of: {', '.join(MODES)}."
            )
        if name == DEFAULT_WORKSPACE:
            raise InvalidParameter(f"Cannot delete the reserved {DEFAULT_WORKSPACE!r} workspace")
        authorize(self._authorizer, "delete", "workspace", name)
        if mode == "CASCADE":
            raise InvalidParameter(
                "mode=CASCADE is not supported: delete and purge the workspace's experiments "
                "and models first (or use mode=SET_DEFAULT to move them to 'default')"
            )
        before = self._store.get_workspace(name)
        self._store.delete_workspace(name, to_default=mode == "SET_DEFAULT")
        if mode == "SET_DEFAULT":  # the grants on its models follow them
            self._authorizer.renamed("workspace", name, DEFAULT_WORKSPACE)
        self._authorizer.removed("workspace", name)
        changed("workspace", name, before=_fields(before))
