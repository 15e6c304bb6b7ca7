"""The fluent LoggedModel API (MLflow 3): `heron.initialize_logged_model`, `heron.set_active_model`
and friends, on the tracking URI, active run and active model of `heron.client.fluent.state`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from heron.client.fluent.state import (
    activate_model,
    active_experiment_id,
    active_run,
    get_active_model_id,
    tracking_client,
)
from heron.entities import LoggedModel, LoggedModelStatus
from heron.errors import InvalidParameter

if TYPE_CHECKING:
    import pandas as pd

_PAGE_LIMIT = 1000


def initialize_logged_model(
    name: str | None = None,
    source_run_id: str | None = None,
    tags: Mapping[str, Any] | None = None,
    params: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """Creates a PENDING logged model, produced by the active run unless `source_run_id` says
    otherwise, in that run's experiment (or the active experiment).

    Example:
        >>> model = heron.initialize_logged_model(name="agent", model_type="agent")
        >>> heron.finalize_logged_model(model.model_id, "READY")
    """
    client = tracking_client()
    run = active_run()
    if source_run_id is None and run is not None:
        source_run_id = run.info.run_id
    if experiment_id is None:
        experiment_id = run.info.experiment_id if run is not None else None
    if experiment_id is None:
        experiment_id = active_experiment_id(client)
    return client.create_logged_model(
        str(experiment_id),
        name=name,
        source_run_id=source_run_id,
        tags=tags,
        params=params,
        model_type=model_type,
    )


def create_external_model(
    name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    *,
    source_run_id: str | None = None,
    experiment_id: str | None = None,
) -> LoggedModel:
    """A model whose files live elsewhere (an agent, a hosted LLM): READY at once, linked to
    the active run (or `source_run_id`), so its params and metrics can be tracked."""
    model = initialize_logged_model(
        name, source_run_id, tags, params, model_type, experiment_id=experiment_id
    )
    return finalize_logged_model(model.model_id, LoggedModelStatus.READY)


def finalize_logged_model(model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
    """Sets the final status: READY, or UPLOAD_FAILED."""
    return tracking_client().finalize_logged_model(model_id, status)


def get_logged_model(model_id: str) -> LoggedModel:
    """The model with its tags, params and metrics. Raises NotFound."""
    return tracking_client().get_logged_model(model_id)


def set_logged_model_tags(model_id: str, tags: Mapping[str, Any]) -> None:
    tracking_client().set_logged_model_tags(model_id, tags)


def delete_logged_model_tag(model_id: str, key: str) -> None:
    tracking_client().delete_logged_model_tag(model_id, key)


def log_model_params(params: Mapping[str, Any], model_id: str | None = None) -> None:
    """Logs params on `model_id`, or on the active model."""
    model_id = model_id or get_active_model_id()
    if model_id is None:
        raise InvalidParameter(
            "No model to log params to: pass model_id=, or call heron.set_active_model first"
        )
    tracking_client().log_model_params(model_id, params)


@overload
def search_logged_models(
    experiment_ids: Sequence[str] | None = ...,
    filter_string: str | None = ...,
    datasets: Sequence[Mapping[str, Any]] | None = ...,
    max_results: int | None = ...,
    order_by: Sequence[Mapping[str, Any]] | None = ...,
    output_format: Literal["list"] = ...,
) -> list[LoggedModel]: ...


@overload
def search_logged_models(
    experiment_ids: Sequence[str] | None = ...,
    filter_string: str | None = ...,
    datasets: Sequence[Mapping[str, Any]] | None = ...,
    max_results: int | None = ...,
    order_by: Sequence[Mapping[str, Any]] | None = ...,
    *,
    output_format: Literal["pandas"],
) -> pd.DataFrame: ...


def search_logged_models(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    datasets: Sequence[Mapping[str, Any]] | None = None,
    max_results: int | None = None,
    order_by: Sequence[Mapping[str, Any]] | None = None,
    output_format: Literal["list", "pandas"] = "list",
) -> list[LoggedModel] | pd.DataFrame:
    """Logged models across all pages (up to `max_results`), in the active experiment unless
    `experiment_ids` are given. See `HeronClient.search_logged_models` for the arguments.

    Returns:
        A list of `LoggedModel`, or with `output_format="pandas"` a DataFrame with MLflow's
        columns (model_id, experiment_id, name, artifact_location, creation_timestamp,
        last_updated_timestamp, status, status_message, model_type, source_run_id, tags,
        params, metrics).
    """
    if output_format not in ("list", "pandas"):
        raise InvalidParameter(f"output_format must be 'list' or 'pandas', got {output_format!r}")
    client = tracking_client()
    ids = [str(i) for i in experiment_ids] if experiment_ids else [active_experiment_id(client)]
    models: list[LoggedModel] = []
    token: str | None = None
    while max_results is None or len(models) < max_results:
        limit = _PAGE_LIMIT if max_results is None else min(max_results - len(models), _PAGE_LIMIT)
        page = client.search_logged_models(
            ids, filter_string, datasets, limit, order_by, page_token=token
        )
        models.extend(page)
        token = page.next_page_token
        if not token:
            break
    if output_format == "pandas":
        return _frame(models)
    return models


def _frame(models: Sequence[LoggedModel]) -> pd.DataFrame:
    import pandas as pd  # loads only here

    return pd.DataFrame(
        {
            "model_id": [m.model_id for m in models],
            "experiment_id": [m.experiment_id for m in models],
            "name": [m.name for m in models],
            "artifact_location": [m.artifact_location for m in models],
            "creation_timestamp": [m.creation_timestamp for m in models],
            "last_updated_timestamp": [m.last_updated_timestamp for m in models],
            "status": [str(m.status) for m in models],
            "status_message": [m.status_message for m in models],
            "model_type": [m.model_type for m in models],
            "source_run_id": [m.source_run_id for m in models],
            "tags": [dict(m.tags) for m in models],
            "params": [dict(m.params) for m in models],
            "metrics": [list(m.metrics) for m in models],
        }
    )


def set_active_model(name: str | None = None, model_id: str | None = None) -> LoggedModel:
    """Makes a model the active one: metrics logged without `model_id` (and traces) link to
    it. By `model_id`, or by `name`: the newest model of that name in the active experiment,
    created (as an external model) when there is none.

    Raises:
        InvalidParameter: neither given, or `model_id` names a model with another name.
    """
    client = tracking_client()
    if model_id is not None:
        model = client.get_logged_model(model_id)
        if name is not None and model.name != name:
            raise InvalidParameter(
                f"Logged model {model_id!r} is named {model.name!r}, not {name!r}"
            )
    elif name is not None:
        found = client.search_logged_models(
            [active_experiment_id(client)],
            filter_string=f"name = '{_quoted(name)}'",
            max_results=1,
        )
        model = found[0] if len(found) else create_external_model(name)
    else:
        raise InvalidParameter("set_active_model needs a name or a model_id")
    activate_model(model.model_id)
    return model


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
