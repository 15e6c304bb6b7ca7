"""The fluent API (`heron.start_run()`, `heron.log_metric()`, ...): one active run per context.

The stack of active runs lives in a `contextvars.ContextVar`, so threads and asyncio tasks
each see their own. The tracking URI and the active experiment are process-wide, as in MLflow,
and kept in one small state object."""

from __future__ import annotations

import atexit
import contextvars
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, overload

from heron.client import source
from heron.client.client import HeronClient
from heron.client.uri import resolve_tracking_uri
from heron.clock import now_ms
from heron.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LifecycleStage,
    Metric,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)
from heron.errors import InvalidParameter, InvalidState

if TYPE_CHECKING:
    import pandas as pd

    from heron.data import PandasDataset

DEFAULT_EXPERIMENT_ID = "0"
_PAGE_LIMIT = 50000


@dataclass
class _State:
    tracking_uri: str | None = None
    experiment: tuple[str, str] | None = None  # (resolved tracking URI, experiment id)
    clients: dict[str, HeronClient] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    exit_hook: bool = False


_state = _State()
_active_runs: contextvars.ContextVar[tuple[ActiveRun, ...]] = contextvars.ContextVar(
    "heron_active_runs", default=()
)
_last_run: contextvars.ContextVar[Run | None] = contextvars.ContextVar(
    "heron_last_run", default=None
)


class ActiveRun:
    """The run `start_run` started; ends it on leaving a `with` block.

    Leaving normally marks the run FINISHED, on an exception FAILED, on Ctrl-C KILLED.
    `info` and `data` are those of the run when it started (call `get_run` for fresh data).
    """

    def __init__(self, run: Run, client: HeronClient) -> None:
        self.run = run
        self.client = client

    @property
    def info(self) -> RunInfo:
        return self.run.info

    @property
    def data(self) -> RunData:
        return self.run.data

    def __enter__(self) -> ActiveRun:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            status = RunStatus.FINISHED
        elif issubclass(exc_type, KeyboardInterrupt):
            status = RunStatus.KILLED
        else:
            status = RunStatus.FAILED
        _end(self, status)

    def __repr__(self) -> str:
        return f"<ActiveRun run_id={self.info.run_id!r} name={self.info.run_name!r}>"


# Tracking URI and clients


def set_tracking_uri(uri: str | Path | None) -> None:
    """Where the fluent API logs: a server URL, a database URI or a data directory.

    None goes back to `$HERON_TRACKING_URI`, `$MLFLOW_TRACKING_URI` or the local data
    directory (`$HERON_HOME` or `./heron-data`)."""
    _state.tracking_uri = None if uri is None else str(uri)


def get_tracking_uri() -> str:
    """The tracking URI in effect (see `set_tracking_uri`)."""
    return resolve_tracking_uri(_state.tracking_uri)


def _client() -> HeronClient:
    uri = get_tracking_uri()
    client = _state.clients.get(uri)
    if client is None:
        with _state.lock:
            client = _state.clients.setdefault(uri, HeronClient(uri))
    return client


# Experiments


def set_experiment(
    experiment_name: str | None = None, experiment_id: str | None = None
) -> Experiment:
    """Makes an experiment the active one, creating it by name if it does not exist.

    Raises:
        InvalidParameter: neither or both arguments given, or the experiment is deleted.
        NotFound: no experiment has `experiment_id`.
    """
    if (experiment_name is None) == (experiment_id is None):
        raise InvalidParameter("Give exactly one of experiment_name or experiment_id")
    client = _client()
    if experiment_name is not None:
        found = client.get_experiment_by_name(experiment_name)
        if found is None:
            found = client.get_experiment(client.create_experiment(experiment_name))
        experiment = found
    else:
        experiment = client.get_experiment(str(experiment_id))
    if experiment.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidParameter(
            f"Cannot set the deleted experiment {experiment.name!r} as the active experiment. "
            "Restore it, or pick another name."
        )
    _state.experiment = (client.tracking_uri, experiment.experiment_id)
    return experiment


def tracking_client() -> HeronClient:
    """The client the fluent API uses for the tracking URI in effect (one per URI)."""
    return _client()


def active_experiment_id() -> str:
    """The experiment the fluent API logs to outside a run: `set_experiment`'s, else
    `$HERON_EXPERIMENT_ID` / `$HERON_EXPERIMENT_NAME` (or MLflow's), else the default "0"."""
    return _active_experiment_id(_client())


def _active_experiment_id(client: HeronClient) -> str:
    if _state.experiment is not None and _state.experiment[0] == client.tracking_uri:
        return _state.experiment[1]
    for name in ("HERON_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID"):
        if os.environ.get(name):
            return os.environ[name]
    for name in ("HERON_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME"):
        if os.environ.get(name):
            return set_experiment(os.environ[name]).experiment_id
    return DEFAULT_EXPERIMENT_ID


def create_experiment(
    name: str, artifact_location: str | None = None, tags: Mapping[str, Any] | None = None
) -> str:
    """Creates an experiment and returns its id (raises AlreadyExists if the name is taken)."""
    return _client().create_experiment(name, artifact_location, tags)


def get_experiment(experiment_id: str) -> Experiment:
    """Returns the experiment; raises NotFound."""
    return _client().get_experiment(experiment_id)


def get_experiment_by_name(name: str) -> Experiment | None:
    """Returns the experiment with that name, or None."""
    return _client().get_experiment_by_name(name)


def search_experiments(
    view_type: ViewType = ViewType.ACTIVE_ONLY,
    max_results: int | None = None,
    filter_string: str | None = None,
    order_by: Sequence[str] | None = None,
) -> list[Experiment]:
    """Every experiment matching the filter (all pages), at most `max_results` of them."""
    client = _client()
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
    _client().delete_experiment(experiment_id)


def restore_experiment(experiment_id: str) -> None:
    _client().restore_experiment(experiment_id)


# Runs


def start_run(
    run_id: str | None = None,
    experiment_id: str | None = None,
    run_name: str | None = None,
    nested: bool = False,
    tags: Mapping[str, Any] | None = None,
    description: str | None = None,
) -> ActiveRun:
    """Starts a run (or resumes `run_id`) and makes it the active run.

    Use it as a context manager so the run ends with the right status:

        >>> with heron.start_run(run_name="train") as run:
        ...     heron.log_param("lr", 0.01)
        ...     with heron.start_run(nested=True):  # tagged mlflow.parentRunId
        ...         heron.log_metric("loss", 0.3, step=1)

    Args:
        run_id: an existing run to resume; it is set back to RUNNING.
        experiment_id: where to create the run; default the active experiment.
        run_name: the run's name; default a generated one.
        nested: start a child of the active run instead of refusing to start a second run.
        tags: more tags for the new run.
        description: a note, stored in the `mlflow.note.content` tag.

    Raises:
        InvalidState: a run is already active and `nested` is False.
    """
    stack = _active_runs.get()
    if stack and not nested:
        raise InvalidState(
            f"Run {stack[-1].info.run_id} is already active. End it with heron.end_run() "
            "first, or call heron.start_run(nested=True) to start a nested run."
        )
    client = _client()
    user_tags = {str(k): str(v) for k, v in (tags or {}).items()}
    if description is not None:
        user_tags[source.NOTE_TAG] = description
    if run_id is not None:
        run = _resume(client, run_id, run_name, user_tags)
    else:
        run_tags = {**source.source_tags(), **user_tags}
        if stack:
            run_tags[source.PARENT_RUN_ID_TAG] = stack[-1].info.run_id
        experiment = str(experiment_id) if experiment_id is not None else None
        run = client.create_run(
            experiment or _active_experiment_id(client), tags=run_tags, run_name=run_name
        )
    active = ActiveRun(run, client)
    _active_runs.set((*stack, active))
    _register_exit_hook()
    return active


def _resume(client: HeronClient, run_id: str, run_name: str | None, tags: dict[str, str]) -> Run:
    run = client.get_run(run_id)
    if run.info.lifecycle_stage == LifecycleStage.DELETED:
        raise InvalidParameter(f"Cannot resume run {run_id}: it is deleted. Restore it first.")
    if run.info.status != RunStatus.RUNNING or run_name:
        client.update_run(run_id, status=RunStatus.RUNNING, name=run_name)
    if tags:
        client.log_batch(run_id, tags=[RunTag(key=k, value=v) for k, v in tags.items()])
    return client.get_run(run_id)


def active_run() -> ActiveRun | None:
    """The innermost active run in this context, or None."""
    stack = _active_runs.get()
    return stack[-1] if stack else None


def last_active_run() -> Run | None:
    """The active run, else the run that ended last in this context (fresh from the store)."""
    active = active_run()
    if active is not None:
        return _client().get_run(active.info.run_id)
    last = _last_run.get()
    return None if last is None else _client().get_run(last.info.run_id)


def end_run(status: RunStatus | str = RunStatus.FINISHED) -> None:
    """Ends the active run (if any) with `status`; its parent becomes the active run."""
    active = active_run()
    if active is not None:
        _end(active, RunStatus(status))


def _end(active: ActiveRun, status: RunStatus) -> None:
    stack = _active_runs.get()
    _active_runs.set(tuple(r for r in stack if r is not active))
    _last_run.set(active.run)
    active.client.set_terminated(active.info.run_id, status)


def _register_exit_hook() -> None:
    if not _state.exit_hook:
        _state.exit_hook = True
        atexit.register(_end_all_runs)


def _end_all_runs() -> None:
    while active_run() is not None:
        end_run(RunStatus.FINISHED)


def _run_id() -> str:
    """The active run's id, starting a run as MLflow does when logging without one."""
    active = active_run() or start_run()
    return active.info.run_id


def log_param(key: str, value: Any) -> Any:
    """Logs `str(value)` to the active run; returns `value`. Params are immutable."""
    return _client().log_param(_run_id(), key, value)


def log_params(params: Mapping[str, Any]) -> None:
    """Logs several params (each as `str(value)`) in one batch."""
    items = [Param(key=k, value=str(v)) for k, v in params.items()]
    _client().log_batch(_run_id(), params=items)


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
    from heron.client.fluent_logged_models import get_active_model_id

    model_id = model_id or get_active_model_id()
    _client().log_metric(_run_id(), key, value, timestamp, step, model_id=model_id, dataset=dataset)


def log_metrics(
    metrics: Mapping[str, float], step: int | None = None, timestamp: int | None = None
) -> None:
    """Logs several metrics at the same step and time in one batch."""
    ts = now_ms() if timestamp is None else timestamp
    items = [Metric(key=k, value=v, timestamp=ts, step=step or 0) for k, v in metrics.items()]
    _client().log_batch(_run_id(), metrics=items)


def set_tag(key: str, value: Any) -> None:
    """Sets a tag (as `str(value)`) on the active run."""
    _client().set_tag(_run_id(), key, value)


def set_tags(tags: Mapping[str, Any]) -> None:
    items = [RunTag(key=k, value=str(v)) for k, v in tags.items()]
    _client().log_batch(_run_id(), tags=items)


def delete_tag(key: str) -> None:
    _client().delete_tag(_run_id(), key)


def log_batch(
    metrics: Sequence[Metric] = (), params: Sequence[Param] = (), tags: Sequence[RunTag] = ()
) -> None:
    """Logs metric points, params and tags to the active run in one call."""
    _client().log_batch(_run_id(), metrics, params, tags)


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
        input_tags.insert(0, InputTag(key=source.DATASET_CONTEXT_TAG, value=context))
    _client().log_inputs(_run_id(), [DatasetInput(dataset=entity, tags=input_tags)])


def get_run(run_id: str) -> Run:
    """Returns the run; raises NotFound."""
    return _client().get_run(run_id)


def get_metric_history(run_id: str, key: str) -> list[Metric]:
    """Every point of one metric of a run, ordered by step."""
    return _client().get_metric_history(run_id, key)


def delete_run(run_id: str) -> None:
    _client().delete_run(run_id)


def restore_run(run_id: str) -> None:
    _client().restore_run(run_id)


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
    client = _client()
    ids = [str(i) for i in experiment_ids or ()]
    for name in experiment_names or ():
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            ids.append(experiment.experiment_id)
    if not ids and experiment_ids is None and experiment_names is None:
        ids = [_active_experiment_id(client)]
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
