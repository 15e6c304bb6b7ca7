"""The fluent API's experiments and runs (`heron.create_experiment()`, `heron.log_metric()`,
`heron.search_runs()`, ...), on the active run and experiment of `heron.client.fluent.state`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, overload

from heron.client.fluent.state import (
    active_experiment_id,
    active_run_id,
    get_active_model_id,
    tracking_client,
)
from heron.clock import now_ms
from heron.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    Metric,
    Param,
    Run,
    RunTag,
    ViewType,
    reserved,
)
from heron.errors import InvalidParameter

if TYPE_CHECKING:
    import pandas as pd

    from heron.data import PandasDataset

_PAGE_LIMIT = 50000


# Experiments


def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
) -> str:
    """Creates an experiment and returns its id (raises AlreadyExists if the name is taken)."""
    return tracking_client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    """Returns the experiment; raises NotFound."""
    return tracking_client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """Returns the experiment with that name, or None."""
    return tracking_client().get_experiment_by_name(name)


def search_experiments(
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Every experiment matching the filter (all pages), at most `max_results` of them."""
    client = tracking_client()
    found: list[Experiment] = []
    token: str | None = None
    while max_results is None or len(found) < max_results:
        limit = _PAGE_LIMIT if max_results is None else min(max_results - len(found), _PAGE_LIMIT)
        page = client.search_experiments(view_type, limit, filter_string, order_by, token)
        found.extend(page)
        token = page.next_page_token
        if not token:
            break
    return found


def delete_experiment(experiment_id: str) -> None:
    tracking_client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str) -> None:
    tracking_client().restore_experiment(experiment_id)


# Runs
def log_param(key: str, value: Any) -> Any:
    """Logs `str(value)` to the active run; returns `value`. Params are immutable."""
    return tracking_client().log_param(active_run_id(), key, value)


def log_params(params: Mapping[str, Any]) -> None:
    """Logs several params (each as `str(value)`) in one batch."""
    items = [Param(key=k, value=str(v)) for k, v in params.items()]
    tracking_client().log_batch(active_run_id(), params=items)


def log_metric(
    key: str,
    value: float,
    step: int | None = None,
    timestamp: int | None = None,
    *,
    model_id: str | None = None,
    dataset: Any = None,
) -> None:
    """Appends a point to a metric of the active run (timestamp: now in ms; step: 0).

    The point is also a metric of the logged model `model_id` (by default the active model,
    see `heron.set_active_model`), computed on `dataset` (anything with `.name` and
    `.digest`, such as `heron.data.from_pandas(...)`) when one is given."""
    model_id = model_id or get_active_model_id()
    tracking_client().log_metric(
        active_run_id(), key, value, timestamp, step, model_id=model_id, dataset=dataset
    )


def log_metrics(
    metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
) -> None:
    """Logs several metrics at the same step and time in one batch."""
    ts = now_ms() if timestamp is None else timestamp
    items = [Metric(key=k, value=v, timestamp=ts, step=step or 0) for k, v in metrics.items()]
    tracking_client().log_batch(active_run_id(), metrics=items)


def set_tag(key: str, value: Any) -> None:
    """Sets a tag (as `str(value)`) on the active run."""
    tracking_client().set_tag(active_run_id(), key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    items = [RunTag(key=k, value=str(v)) for k, v in tags.items()]
    tracking_client().log_batch(active_run_id(), tags=items)


def delete_tag(key: str) -> None:
    tracking_client().delete_tag(active_run_id(), key)


def log_batch(
    metrics: Sequence[Metric] = (), params: Sequence[Param] = (), tags: Sequence[RunTag] = ()
) -> None:
    """Logs metric points, params and tags to the active run in one call."""
    tracking_client().log_batch(active_run_id(), metrics, params, tags)


def log_input(
    dataset: PandasDataset | Dataset,
    context: str | None = None,
    tags: Mapping[str, Any] | None = None,
) -> None:
    """Records that the active run used `dataset` (e.g. from `heron.data.from_pandas`).

    Args:
        dataset: the dataset.
        context: what it was used for, such as "training" or "eval".
        tags: more input tags.
    """
    entity = dataset if isinstance(dataset, Dataset) else dataset.to_entity()
    input_tags = [InputTag(key=str(k), value=str(v)) for k, v in (tags or {}).items()]
    if context is not None:
        input_tags.insert(0, InputTag(key=reserved.DATASET_CONTEXT, value=context))
    tracking_client().log_inputs(active_run_id(), [DatasetInput(dataset=entity, tags=input_tags)])


def get_run(run_id: str) -> Run:
    """Returns the run; raises NotFound."""
    return tracking_client().get_run(run_id)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    """Every point of one metric of a run, ordered by step."""
    return tracking_client().get_metric_history(run_id, key)


def delete_run(run_id: str) -> None:
    tracking_client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    tracking_client().restore_run(run_id)


@overload
def search_runs(
    experiment_ids: Sequence[str] | None = ...,
    filter_string: str = ...,
    run_view_type: ViewType = ...,
    max_results: int = ...,
    order_by: Sequence[str] | None = ...,
    output_format: Literal["list"] = ...,
    experiment_names: Sequence[str] | None = ...,
) -> list[Run]: ...


@overload
def search_runs(
    experiment_ids: Sequence[str] | None = ...,
    filter_string: str = ...,
    run_view_type: ViewType = ...,
    max_results: int = ...,
    order_by: Sequence[str] | None = ...,
    *,
    output_format: Literal["pandas"],
    experiment_names: Sequence[str] | None = ...,
) -> pd.DataFrame: ...


def search_runs(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str = "",
    run_view_type: ViewType = ViewType.ACTIVE_ONLY,
    max_results: int = 100000,
    order_by: Sequence[str] | None = None,
    output_format: Literal["list", "pandas"] = "list",
    experiment_names: Sequence[str] | None = None,
) -> list[Run] | pd.DataFrame:
    """Runs matching MLflow's filter grammar, across all pages up to `max_results`.

    Searches the active experiment unless experiment ids or names are given.

    Example:
        >>> heron.search_runs(filter_string="metrics.acc > 0.9", output_format="pandas")

    Returns:
        A list of `Run`, or with `output_format="pandas"` a DataFrame with MLflow's columns:
        run_id, experiment_id, status, artifact_uri, start_time, end_time, then
        `metrics.<key>`, `params.<key>` and `tags.<key>`.
    """
    client = tracking_client()
    ids = [str(i) for i in experiment_ids or ()]
    for name in experiment_names or ():
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            ids.append(experiment.experiment_id)
    if not ids and experiment_ids is None and experiment_names is None:
        ids = [active_experiment_id(client)]
    runs: list[Run] = []
    token: str | None = None
    while ids and len(runs) < max_results:
        limit = min(max_results - len(runs), _PAGE_LIMIT)
        page = client.search_runs(ids, filter_string, run_view_type, limit, order_by, token)
        runs.extend(page)
        token = page.next_page_token
        if not token:
            break
    if output_format == "pandas":
        from heron.client.frames import runs_to_frame  # pandas loads only here

        return runs_to_frame(runs)
    if output_format != "list":
        raise InvalidParameter(f"output_format must be 'list' or 'pandas', got {output_format!r}")
    return runs
