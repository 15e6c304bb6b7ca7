"""The workspace a request works in (set by the server when workspaces are enabled, read by
the SQL stores inside their queries), and the store of workspaces themselves."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Protocol

from heron.entities.workspace import DEFAULT_WORKSPACE, Workspace

_current: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "heron_workspace", default=None
)


def current_workspace() -> str | None:
    """The workspace of the current request; None when workspaces are off (no scoping)."""
    return _current.get()


def new_object_workspace() -> str:
    """Where an experiment or registered model made now belongs."""
    return _current.get() or DEFAULT_WORKSPACE


@contextlib.contextmanager
def workspace_scope(name: str | None) -> Iterator[None]:
    token = _current.set(name)
    try:
        yield
    finally:
        _current.reset(token)


class WorkspaceStore(Protocol):
    def create_workspace(self, workspace: Workspace) -> Workspace: ...  # AlreadyExists
    def get_workspace(self, name: str) -> Workspace: ...  # raises NotFound
    def exists(self, name: str) -> bool: ...
    def list_workspaces(self) -> list[Workspace]: ...
    def update_workspace(
        self, name: str, *, description: str | None, default_artifact_root: str | None
    ) -> Workspace: ...
    def delete_workspace(self, name: str, *, to_default: bool = False) -> None:
        """Raises NotFound, or Conflict while experiments or models are in it (unless
        `to_default`: they move to the default workspace, Conflict on a name taken there)."""
        ...

    def workspace_of_experiment(self, experiment_id: str) -> str | None: ...
    def version(self) -> int:
        """A number every deletion of a workspace moves (in its transaction), read cheaply by
        every server process on each request to drop what it remembers of workspaces."""
        ...
