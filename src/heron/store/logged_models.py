"""The logged-model store port: LoggedModels, their params and tags, and searching them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from heron.entities import LoggedModel, LoggedModelStatus, Page
from heron.search import Comparison
from heron.search.logged_models import DatasetScope, ModelOrderKey


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedModelQuery:
    experiment_ids: Sequence[str]
    filter: Sequence[Comparison] = ()
    datasets: Sequence[DatasetScope] = ()
    order_by: Sequence[ModelOrderKey] = ()
    max_results: int = 100
    page_token: str | None = None


class LoggedModelStore(Protocol):
    def create_logged_model(
        self,
        *,
        experiment_id: str,
        name: str,
        source_run_id: str | None,
        model_type: str | None,
        tags: Mapping[str, str],
        params: Mapping[str, str],
    ) -> LoggedModel:
        """A new PENDING model with id `m-<32 hex>`, its files at
        `<experiment artifact location>/models/<model_id>/artifacts`.

        Raises NotFound for a missing experiment, InvalidParameter for a deleted one."""
        ...

    def get_logged_model(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        """The model with its tags, params and metrics. Raises NotFound (also when deleted,
        unless `allow_deleted`)."""
        ...

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        """Raises NotFound."""
        ...

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        """Adds or overwrites tags. Raises NotFound."""
        ...

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Raises NotFound when the model or the tag does not exist."""
        ...

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        """Params are immutable: logging a key again with another value raises
        InvalidParameter. Raises NotFound."""
        ...

    def delete_logged_model(self, model_id: str) -> None:
        """Soft delete: get and search no longer find it. Raises NotFound."""
        ...

    def search_logged_models(self, query: LoggedModelQuery) -> Page[LoggedModel]:
        """A page of active models loaded with a constant number of queries."""
        ...
