"""The LoggedModel half of `HeronClient`: MLflow 3's `MlflowClient` logged-model methods."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from heron.client.backend import Backend
from heron.entities import LoggedModel, LoggedModelOutput, LoggedModelStatus, Page


class LoggedModelMethods:
    """Mixed into `HeronClient`; `backend` is the client's backend."""

    @property
    def backend(self) -> Backend:
        raise NotImplementedError  # pragma: no cover - HeronClient provides it

    def create_logged_model(
        self,
        experiment_id: str,
        name: str | None = None,
        source_run_id: str | None = None,
        tags: Mapping[str, Any] | None = None,
        params: Mapping[str, Any] | None = None,
        model_type: str | None = None,
    ) -> LoggedModel:
        """Creates a PENDING logged model; upload its files to `artifact_location`, then
        `finalize_logged_model(model_id, "READY")`.

        Raises:
            NotFound: the experiment does not exist.
            InvalidParameter: a bad name (it may not contain / : . % " '), tag or param.

        Example:
            >>> model = client.create_logged_model(experiment_id, name="clf", source_run_id=run_id)
            >>> client.finalize_logged_model(model.model_id, "READY").status
            <LoggedModelStatus.READY: 'READY'>
        """
        return self.backend.logged_models.create_logged_model(
            str(experiment_id),
            name=name,
            source_run_id=source_run_id,
            model_type=model_type,
            tags=_strings(tags),
            params=_strings(params),
        )

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
        """Sets the final status: READY, or UPLOAD_FAILED when the upload of its files failed."""
        return self.backend.logged_models.finalize_logged_model(model_id, _status(status))

    def get_logged_model(self, model_id: str, allow_deleted: bool = False) -> LoggedModel:
        """The model with its tags, params and metrics. Raises NotFound."""
        return self.backend.logged_models.get_logged_model(model_id, allow_deleted=allow_deleted)

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int = 100,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        """One page of the experiments' models, newest first unless `order_by` says otherwise.

        Args:
            filter_string: e.g. `metrics.accuracy > 0.9 AND params.lr = '0.1' AND name = 'clf'`.
            datasets: `[{"dataset_name": "eval", "dataset_digest": "..."}]` restricts metric
                clauses (and, without one, the models found) to metrics on these datasets.
            order_by: `[{"field_name": "metrics.accuracy", "ascending": False,
                "dataset_name": "eval"}]` or attributes such as `{"field_name": "name"}`.
        """
        return self.backend.logged_models.search_logged_models(
            [str(e) for e in experiment_ids],
            filter_string=filter_string,
            datasets=datasets,
            max_results=max_results,
            order_by=order_by,
            page_token=page_token,
        )

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, Any]) -> None:
        """Adds or overwrites tags (values as `str`)."""
        self.backend.logged_models.set_logged_model_tags(model_id, _strings(tags))

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        """Raises NotFound when the model or the tag does not exist."""
        self.backend.logged_models.delete_logged_model_tag(model_id, key)

    def log_model_params(self, model_id: str, params: Mapping[str, Any]) -> None:
        """Logs params on a model; like run params they are immutable."""
        self.backend.logged_models.log_logged_model_params(model_id, _strings(params))

    def delete_logged_model(self, model_id: str) -> None:
        """Soft delete: get and search no longer find it."""
        self.backend.logged_models.delete_logged_model(model_id)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        """Records the models a run produced (`LoggedModelOutput(model_id, step)`)."""
        if models:
            self.backend.runs.log_outputs(run_id, list(models))


def _strings(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}


def _status(status: LoggedModelStatus | str) -> LoggedModelStatus | str:
    return status if isinstance(status, LoggedModelStatus) else str(status)
