"""The fluent API's state, in one module: the tracking URI and its clients, the active
experiment, the stack of active runs and the active model. The other fluent modules read and
change it only through the functions here.

The stack of active runs and the active model live in `contextvars.ContextVar`s, so threads
and asyncio tasks each see their own; `$HERON_ACTIVE_MODEL_ID` or `$MLFLOW_ACTIVE_MODEL_ID`
give a model to a whole process. The tracking URI and the active experiment are
process-wide, as in MLflow."""

from __future__ import annotations

import atexit
import contextvars
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from heron.client import source
from heron.client.client import HeronClient
from heron.client.uri import choose_tracking_uri, resolve_tracking_uri
from heron.entities import (
    Experiment,
    LifecycleStage,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    reserved,
)
from heron.errors import InvalidParameter, InvalidState

DEFAULT_EXPERIMENT_ID = "0"


@dataclass
class _State:
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
    directory (`$HERON_HOME` or `./heron-data`). A `HeronClient()` made without a URI
    follows it too, as MLflow's `MlflowClient()` follows `mlflow.set_tracking_uri`."""
    choose_tracking_uri(None if uri is None else str(uri))


def get_tracking_uri() -> str:
    """The tracking URI in effect (see `set_tracking_uri`)."""
    return resolve_tracking_uri(None)


def use_client(client: HeronClient) -> None:
    """Makes `client` the fluent API's client for its tracking URI, and that URI the one in
    effect: for a process that opened its backend itself (`heron worker`, with its own
    artifact destination)."""
    with _state.lock:
        _state.clients[client.tracking_uri] = client
    set_tracking_uri(client.tracking_uri)


def tracking_client() -> HeronClient:
    """The client the fluent API uses for the tracking URI in effect (one per URI)."""
    uri = get_tracking_uri()
    client = _state.clients.get(uri)
    if client is None:
        with _state.lock:
            client = _state.clients.get(uri)
            if client is None:
                client = _state.clients[uri] = HeronClient(uri)
                _register_exit_hook()
    return client


def close_clients() -> None:
    """Closes the clients the fluent API opened (they reconnect if used again); runs at exit,
    so no connection is left for the garbage collector to find open."""
    with _state.lock:
        clients = list(_state.clients.values())
        _state.clients.clear()
    for client in clients:
        client.close()


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
    client = tracking_client()
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


def active_experiment_id(client: HeronClient | None = None) -> str:
    """The experiment the fluent API logs to outside a run: `set_experiment`'s, else
    `$HERON_EXPERIMENT_ID` / `$HERON_EXPERIMENT_NAME` (or MLflow's), else the default "0".
    `client` is the tracking client in effect, when the caller holds it already."""
    if client is None:
        client = tracking_client()
    if _state.experiment is not None and _state.experiment[0] == client.tracking_uri:
        return _state.experiment[1]
    for name in ("HERON_EXPERIMENT_ID", "MLFLOW_EXPERIMENT_ID"):
        if os.environ.get(name):
            return os.environ[name]
    for name in ("HERON_EXPERIMENT_NAME", "MLFLOW_EXPERIMENT_NAME"):
        if os.environ.get(name):
            return set_experiment(os.environ[name]).experiment_id
    return DEFAULT_EXPERIMENT_ID


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
    client = tracking_client()
    user_tags = {str(k): str(v) for k, v in (tags or {}).items()}
    if description is not None:
        user_tags[reserved.NOTE] = description
    if run_id is not None:
        run = _resume(client, run_id, run_name, user_tags)
    else:
        run_tags = {**source.source_tags(), **user_tags}
        if stack:
            run_tags[reserved.PARENT_RUN_ID] = stack[-1].info.run_id
        experiment = str(experiment_id) if experiment_id is not None else None
        run = client.create_run(
            experiment or active_experiment_id(client), tags=run_tags, run_name=run_name
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
        return tracking_client().get_run(active.info.run_id)
    last = _last_run.get()
    return None if last is None else tracking_client().get_run(last.info.run_id)


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
        atexit.register(close_clients)  # atexit runs in reverse: after the runs end
        atexit.register(_end_all_runs)


def _end_all_runs() -> None:
    while active_run() is not None:
        end_run(RunStatus.FINISHED)


def active_run_id() -> str:
    """The active run's id, starting a run as MLflow does when logging without one."""
    active = active_run() or start_run()
    return active.info.run_id


# The active model


_ACTIVE_MODEL_ENV = ("HERON_ACTIVE_MODEL_ID", "MLFLOW_ACTIVE_MODEL_ID")
_active_model: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "heron_active_model_id", default=None
)


def get_active_model_id() -> str | None:
    """The active model's id: set by `set_active_model`, or from the environment."""
    model_id = _active_model.get()
    if model_id is not None:
        return model_id
    for variable in _ACTIVE_MODEL_ENV:
        if os.environ.get(variable):
            return os.environ[variable]
    return None


def activate_model(model_id: str) -> None:
    """Makes `model_id` the active model (in this context); see `set_active_model`."""
    _active_model.set(model_id)


def clear_active_model() -> None:
    """No model is active any more (in this context)."""
    _active_model.set(None)
