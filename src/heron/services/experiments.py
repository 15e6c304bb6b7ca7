"""Experiment rules: names, tags, artifact locations, lifecycle."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from heron import search
from heron.entities import Experiment, LifecycleStage, Page, ViewType
from heron.errors import NotFound
from heron.services import validation as v
from heron.services.access import Action, Authorizer, authorize, created, listing
from heron.services.changes import changed, changed_field, noting
from heron.store import ids
from heron.store.experiments import ExperimentQuery, ExperimentStore


class ExperimentService:
    def __init__(
        self,
        store: ExperimentStore,
        authorizer: Authorizer,
        *,
        artifact_roots: Sequence[str],
        workspace_root: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._store = store
        self._authorizer = authorizer
        self._artifact_roots = tuple(r.rstrip("/") for r in artifact_roots)
        self._workspace_root = workspace_root  # the request's workspace's, if it has one

    def _check(self, action: Action, experiment_id: str) -> None:
        authorize(self._authorizer, action, "experiment", experiment_id)

    def create_experiment(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        self._check("create", "")
        v.check_experiment_name(name)
        tags = dict(tags or {})
        for key, value in tags.items():
            v.check_key("Experiment tag", key)
            v.check_length(
                f"Experiment tag {key!r} value",
                v.check_string("value", value),
                v.MAX_EXPERIMENT_TAG_VALUE,
            )
        root = None
        if artifact_location:
            artifact_location = self._confined_location(artifact_location)
            # A place of one's choosing must be one's own to write: never inside another's.
            authorize(self._authorizer, "update", "artifact", artifact_location)
        else:
            root = self._root_of_workspace()
        experiment_id = self._store.create_experiment(
            name, artifact_location=artifact_location or None, tags=tags, artifact_root=root
        )
        created(self._authorizer, "experiment", experiment_id)
        made = self._before(experiment_id)
        if made is not None:
            changed(
                "experiment",
                experiment_id,
                after={"name": name, "artifact_location": made.artifact_location},
            )
        return experiment_id

    def _confined_location(self, location: str) -> str:
        """Artifact locations are the server's to assign: only inside a configured root."""
        return v.confined_location(
            "artifact_location", location, self._artifact_roots,
            "Leave it out to let the server assign one.",
        )  # fmt: skip

    def _root_of_workspace(self) -> str | None:
        """The request's workspace's default_artifact_root, still inside the server's roots
        (checked again: the server may have been restarted with other roots since)."""
        root = self._workspace_root()
        if not root:
            return None
        return v.confined_location(
            "The workspace's default_artifact_root", root, self._artifact_roots,
            "An admin must change the workspace's default_artifact_root (PATCH "
            "/api/3.0/mlflow/workspaces/<name>) or allow that root.",
        )  # fmt: skip

    def get_experiment(self, experiment_id: str) -> Experiment:
        experiment_id = ids.experiment_id(experiment_id)
        self._check("read", experiment_id)
        return self._store.get_experiment(experiment_id)

    def get_experiment_by_name(self, name: str) -> Experiment:
        """Raises NotFound when no experiment has that name."""
        v.check_string("experiment_name", name)
        experiment = self._store.get_experiment_by_name(name)
        if experiment is None:
            raise NotFound(f"Could not find experiment with name '{name}'")
        self._check("read", experiment.experiment_id)
        return experiment

    def search_experiments(
        self,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        visible = listing(self._authorizer, "experiment")
        query = ExperimentQuery(
            filter=search.parse_experiment_filter(filter_string),
            order_by=search.parse_experiment_order_by(list(order_by or [])),
            view_type=ViewType(view_type),
            max_results=v.check_max_results(max_results),
            page_token=page_token or None,
            visible=visible,
        )
        return self._store.search_experiments(query)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        experiment_id = ids.experiment_id(experiment_id)
        self._check("update", experiment_id)
        v.check_experiment_name(new_name)
        before = self._before(experiment_id)
        self._store.rename_experiment(experiment_id, new_name)
        if before is not None:
            changed(
                "experiment", experiment_id, before={"name": before.name}, after={"name": new_name}
            )

    def delete_experiment(self, experiment_id: str) -> None:
        experiment_id = ids.experiment_id(experiment_id)
        self._check("delete", experiment_id)
        self._lifecycle(experiment_id, LifecycleStage.DELETED)

    def restore_experiment(self, experiment_id: str) -> None:
        experiment_id = ids.experiment_id(experiment_id)
        self._check("update", experiment_id)
        self._lifecycle(experiment_id, LifecycleStage.ACTIVE)

    def _lifecycle(self, experiment_id: str, stage: LifecycleStage) -> None:
        before = self._before(experiment_id)
        self._store.set_experiment_lifecycle(experiment_id, stage)
        if before is not None:
            changed_field(
                "experiment",
                experiment_id,
                "lifecycle_stage",
                str(before.lifecycle_stage),
                str(stage),
            )

    def _before(self, experiment_id: str) -> Experiment | None:
        """The experiment as it is, when its changes are noted for the audit log."""
        return self._store.get_experiment(experiment_id) if noting() else None

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        experiment_id = ids.experiment_id(experiment_id)
        self._check("update", experiment_id)
        v.check_key("Experiment tag", key)
        v.check_length(
            f"Experiment tag {key!r} value",
            v.check_string("value", value),
            v.MAX_EXPERIMENT_TAG_VALUE,
        )
        before = self._before(experiment_id)
        self._store.set_experiment_tag(experiment_id, key, value)
        if before is not None:
            changed_field("experiment", experiment_id, f"tags.{key}", before.tags.get(key), value)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        experiment_id = ids.experiment_id(experiment_id)
        self._check("update", experiment_id)
        v.check_string("key", key)
        before = self._before(experiment_id)
        self._store.delete_experiment_tag(experiment_id, key)
        if before is not None:
            changed_field("experiment", experiment_id, f"tags.{key}", before.tags.get(key), None)
