"""`HeronClient`: MLflow's `MlflowClient` methods over a local data directory or a server."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from heron.client.backend import Backend
from heron.client.uri import backend_kind, resolve_tracking_uri
from heron.clock import now_ms
from heron.entities import (
    DatasetInput,
    Experiment,
    Metric,
    Page,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
)
from heron.errors import NotFound

_HISTORY_PAGE = 25000


class HeronClient:
    """Talks to one tracking backend, chosen by the scheme of the tracking URI.

    `http://` and `https://` URIs reach a Heron (or MLflow) server over its REST API.
    Anything else opens the database in process through the same services the server uses:
    a path or `file:` URI names a Heron data directory, `sqlite:///...` and
    `postgresql://...` name a database. With no URI the client uses `$HERON_TRACKING_URI`,
    `$MLFLOW_TRACKING_URI`, or the local data directory (`$HERON_HOME` or `./heron-data`).

    Errors are the same classes either way: a missing run raises `heron.errors.NotFound`
    in process and over HTTP.

    Example:
        >>> client = HeronClient("http://127.0.0.1:5000")
        >>> run = client.create_run(client.create_experiment("demo"))
        >>> client.log_metric(run.info.run_id, "loss", 0.25, step=1)
    """

    def __init__(self, tracking_uri: str | None = None) -> None:
        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self._backend: Backend | None = None
        self._lock = threading.Lock()

    @property
    def backend(self) -> Backend:
        """The backend, connected on first use so that constructing a client is cheap."""
        if self._backend is None:
            with self._lock:
                if self._backend is None:
                    self._backend = _open_backend(self.tracking_uri)
        return self._backend

    def close(self) -> None:
        """Releases connections; the client reconnects if used again."""
        with self._lock:
            if self._backend is not None:
                self._backend.close()
                self._backend = None

    def __enter__(self) -> HeronClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"HeronClient({self.tracking_uri!r})"

    # Experiments

    def create_experiment(
        self,
        name: str,
        artifact_location: str | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> str:
        """Creates an experiment and returns its id.

        Raises:
            AlreadyExists: an experiment (active or deleted) already has that name.
        """
        return self.backend.experiments.create_experiment(
            name, artifact_location=artifact_location, tags=_strings(tags)
        )

    def get_experiment(self, experiment_id: str) -> Experiment:
        """Returns the experiment. Raises NotFound when it does not exist."""
        return self.backend.experiments.get_experiment(str(experiment_id))

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        """Returns the experiment with that name, or None."""
        try:
            return self.backend.experiments.get_experiment_by_name(name)
        except NotFound:
            return None

    def search_experiments(
        self,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        """One page of experiments matching MLflow's filter grammar (e.g. `name LIKE 'a%'`)."""
        return self.backend.experiments.search_experiments(
            filter_string=filter_string,
            order_by=order_by,
            view_type=view_type,
            max_results=max_results,
            page_token=page_token,
        )

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self.backend.experiments.rename_experiment(str(experiment_id), new_name)

    def delete_experiment(self, experiment_id: str) -> None:
        """Soft-deletes the experiment and its runs; `restore_experiment` undoes it."""
        self.backend.experiments.delete_experiment(str(experiment_id))

    def restore_experiment(self, experiment_id: str) -> None:
        self.backend.experiments.restore_experiment(str(experiment_id))

    def set_experiment_tag(self, experiment_id: str, key: str, value: Any) -> None:
        self.backend.experiments.set_experiment_tag(str(experiment_id), key, str(value))

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self.backend.experiments.delete_experiment_tag(str(experiment_id), key)

    # Runs

    def create_run(
        self,
        experiment_id: str,
        start_time: int | None = None,
        tags: Mapping[str, Any] | None = None,
        run_name: str | None = None,
    ) -> Run:
        """Creates a RUNNING run in the experiment and returns it."""
        tags = _strings(tags)
        return self.backend.runs.create_run(
            str(experiment_id),
            user_id=tags.get("mlflow.user"),
            run_name=run_name,
            start_time=now_ms() if start_time is None else start_time,
            tags=tags,
        )

    def get_run(self, run_id: str) -> Run:
        """Returns the run with its latest metrics, params, tags and inputs.

        Raises:
            NotFound: no run has that id.
        """
        return self.backend.runs.get_run(run_id)

    def update_run(
        self, run_id: str, status: RunStatus | str | None = None, name: str | None = None
    ) -> None:
        """Changes the status and/or the name of a run."""
        self.backend.runs.update_run(run_id, status=status, run_name=name)

    def set_terminated(
        self, run_id: str, status: RunStatus | str | None = None, end_time: int | None = None
    ) -> None:
        """Ends a run: status FINISHED unless given, end time now unless given."""
        self.backend.runs.update_run(
            run_id,
            status=status or RunStatus.FINISHED,
            end_time=now_ms() if end_time is None else end_time,
        )

    def delete_run(self, run_id: str) -> None:
        self.backend.runs.delete_run(run_id)

    def restore_run(self, run_id: str) -> None:
        self.backend.runs.restore_run(run_id)

    def log_metric(
        self,
        run_id: str,
        key: str,
        value: float,
        timestamp: int | None = None,
        step: int | None = None,
    ) -> None:
        """Appends one point; timestamp defaults to now (ms), step to 0."""
        self.backend.runs.log_metric(
            run_id, key, value, now_ms() if timestamp is None else timestamp, step or 0
        )

    def log_param(self, run_id: str, key: str, value: Any) -> Any:
        """Logs `str(value)`. Params are immutable: another value raises InvalidParameter."""
        self.backend.runs.log_param(run_id, key, str(value))
        return value

    def set_tag(self, run_id: str, key: str, value: Any) -> None:
        self.backend.runs.set_tag(run_id, key, str(value))

    def delete_tag(self, run_id: str, key: str) -> None:
        self.backend.runs.delete_tag(run_id, key)

    def log_batch(
        self,
        run_id: str,
        metrics: Iterable[Metric] = (),
        params: Iterable[Param] = (),
        tags: Iterable[RunTag] = (),
    ) -> None:
        """Logs metrics, params and tags in one call (all or nothing)."""
        self.backend.runs.log_batch(
            run_id, metrics=list(metrics), params=list(params), tags=list(tags)
        )

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput] | None = None) -> None:
        """Records datasets the run used (see `heron.data.from_pandas`)."""
        if datasets:
            self.backend.runs.log_inputs(run_id, list(datasets))

    def get_metric_history(self, run_id: str, key: str) -> list[Metric]:
        """Every point of one metric, ordered by step then timestamp."""
        points: list[Metric] = []
        token: str | None = None
        while True:
            page = self.backend.runs.get_metric_history(
                run_id, key, max_results=_HISTORY_PAGE, page_token=token
            )
            points.extend(page)
            token = page.next_page_token
            if not token:
                return points

    def search_runs(
        self,
        experiment_ids: str | Sequence[str],
        filter_string: str = "",
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        """One page of runs matching MLflow's filter grammar.

        Example:
            >>> client.search_runs(["1"], "metrics.acc > 0.9", order_by=["metrics.acc DESC"])
        """
        ids = [experiment_ids] if isinstance(experiment_ids, str) else list(experiment_ids)
        return self.backend.runs.search_runs(
            [str(i) for i in ids],
            filter_string=filter_string or None,
            run_view_type=run_view_type,
            max_results=max_results,
            order_by=order_by,
            page_token=page_token,
        )


def _strings(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}


def _open_backend(uri: str) -> Backend:
    # Imported here: httpx and SQLAlchemy load only when a client first talks to a backend.
    if backend_kind(uri) == "http":
        from heron.client.http import HttpBackend

        return HttpBackend(uri)
    from heron.client.local import LocalBackend

    return LocalBackend(uri)
