"""The experiment store port."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from heron.entities import Experiment, LifecycleStage, Page, ViewType
from heron.search import Comparison, OrderKey
from heron.store.visibility import Visibility


@dataclass(frozen=True, slots=True, kw_only=True)
class ExperimentQuery:
    filter: Sequence[Comparison] = ()
    order_by: Sequence[OrderKey] = ()
    view_type: ViewType = ViewType.ACTIVE_ONLY
    max_results: int = 1000
    page_token: str | None = None
    visible: Visibility | None = None  # None: every experiment


class ExperimentStore(Protocol):
    def create_experiment(
        self,
        name: str,
        *,
        artifact_location: str | None,
        tags: Mapping[str, str],
        artifact_root: str | None = None,
    ) -> str:
        """Returns the new id. `artifact_location=None` means `<artifact_root>/<id>`, by
        default under the server's default root.

        Raises AlreadyExists when the name is taken (deleted experiments keep their name)."""
        ...

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Raises NotFound."""
        ...

    def get_experiment_by_name(self, name: str) -> Experiment | None: ...

    def search_experiments(self, query: ExperimentQuery) -> Page[Experiment]: ...

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        """Raises NotFound, AlreadyExists."""
        ...

    def set_experiment_lifecycle(self, experiment_id: str, stage: LifecycleStage) -> None:
        """Deleting or restoring an experiment does the same to its runs. Raises NotFound."""
        ...

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None: ...

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        """Raises NotFound when the experiment or the tag does not exist."""
        ...
