"""`HeronClient`: MLflow's `MlflowClient` methods over a local data directory or a server."""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from heron.client import artifact_formats, artifacts
from heron.client.backend import Backend
from heron.client.methods.deployment_jobs import DeploymentJobMethods
from heron.client.methods.endpoints import EndpointMethods
from heron.client.methods.logged_models import LoggedModelMethods
from heron.client.methods.namespaces import NamespaceMethods
from heron.client.methods.registry import RegistryMethods
from heron.client.methods.traces import TraceMethods
from heron.client.methods.webhooks import WebhookMethods
from heron.client.uri import backend_kind, resolve_tracking_uri
from heron.clock import now_ms
from heron.entities import (
    DatasetInput,
    Experiment,
    FileInfo,
    LoggedModelInput,
    LoggedModelMetric,
    Metric,
    Page,
    Param,
    Run,
    RunStatus,
    RunTag,
    ViewType,
    reserved,
)
from heron.errors import InvalidParameter, NotFound

if TYPE_CHECKING:
    from PIL.Image import Image

_HISTORY_PAGE = 25000
_ARTIFACT_URI_CACHE = 4096


class HeronClient(
    RegistryMethods,
    NamespaceMethods,
    WebhookMethods,
    LoggedModelMethods,
    TraceMethods,
    DeploymentJobMethods,
    EndpointMethods,
):
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

    def __init__(self, tracking_uri: str | None = None, *, backend: Backend | None = None) -> None:
        """`backend`: one already open (the CLI's, on the server's store flags)."""
        self.tracking_uri = resolve_tracking_uri(tracking_uri)
        self._backend: Backend | None = backend
        self._lock = threading.Lock()
        self._artifact_uris: dict[str, str] = {}

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
            user_id=tags.get(reserved.USER),
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
        model_id: str | None = None,
        dataset_name: str | None = None,
        dataset_digest: str | None = None,
        dataset: Any = None,
    ) -> None:
        """Appends one point; timestamp defaults to now (ms), step to 0.

        With `model_id` the point is also a metric of that logged model, computed on the
        dataset named by `dataset_name` and `dataset_digest` (or by `dataset`, anything with
        `.name` and `.digest`)."""
        timestamp = now_ms() if timestamp is None else timestamp
        if model_id is None:
            self.backend.runs.log_metric(run_id, key, value, timestamp, step or 0)
            return
        if dataset is not None:
            dataset_name, dataset_digest = dataset.name, dataset.digest
        point = Metric(key=key, value=value, timestamp=timestamp, step=step or 0)
        link = LoggedModelMetric(
            key=key,
            value=value,
            timestamp=timestamp,
            step=step or 0,
            model_id=model_id,
            dataset_name=dataset_name,
            dataset_digest=dataset_digest,
        )
        self.backend.runs.log_batch(run_id, metrics=[point], model_metrics=[link])

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

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] | None = None,
        models: Sequence[LoggedModelInput] | None = None,
    ) -> None:
        """Records datasets (see `heron.data.from_pandas`) and logged models the run used."""
        if datasets or models:
            self.backend.runs.log_inputs(run_id, list(datasets or ()), list(models or ()))

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

    # Artifacts

    def get_artifact_uri(self, run_id: str) -> str:
        """The run's `artifact_uri` (it never changes, so it is looked up once)."""
        uri = self._artifact_uris.get(run_id)
        if uri is None:
            uri = self.get_run(run_id).info.artifact_uri
            if len(self._artifact_uris) >= _ARTIFACT_URI_CACHE:
                self._artifact_uris.clear()
            self._artifact_uris[run_id] = uri
        return uri

    def log_artifact(
        self, run_id: str, local_path: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Uploads one local file (streamed) to `<artifact_path>/<its name>` in the run.

        Raises:
            InvalidParameter: `artifact_path` is absolute or has '..' segments.
        """
        folder = artifacts.artifact_dir(artifact_path)
        if os.path.isdir(local_path):
            raise InvalidParameter(f"{os.fspath(local_path)!r} is a directory: use log_artifacts")
        name = os.path.basename(os.fspath(local_path))
        path = f"{folder}/{name}" if folder else name
        uri = self.get_artifact_uri(run_id)
        artifacts.upload_file(self.backend.artifacts, uri, local_path, path)

    def log_artifacts(
        self, run_id: str, local_dir: str | os.PathLike[str], artifact_path: str | None = None
    ) -> None:
        """Uploads every file under `local_dir`, keeping the nested layout, to `artifact_path`."""
        folder = artifacts.artifact_dir(artifact_path)
        uri = self.get_artifact_uri(run_id)
        artifacts.upload_tree(self.backend.artifacts, uri, local_dir, folder)

    def _log_bytes(self, run_id: str, data: bytes, artifact_file: str) -> None:
        uri = self.get_artifact_uri(run_id)
        self.backend.artifacts.put(uri, artifact_file, io.BytesIO(data))

    def log_text(self, run_id: str, text: str, artifact_file: str) -> None:
        """Writes `text` (UTF-8) to the file `artifact_file` in the run's artifacts."""
        path = artifacts.artifact_file(artifact_file)
        self._log_bytes(run_id, text.encode("utf-8"), path)

    def log_dict(self, run_id: str, dictionary: Mapping[str, Any], artifact_file: str) -> None:
        """Writes a dict as YAML (`.yaml`/`.yml`) or JSON (any other name)."""
        path = artifacts.artifact_file(artifact_file)
        self._log_bytes(run_id, artifact_formats.dict_bytes(dictionary, path), path)

    def log_figure(
        self,
        run_id: str,
        figure: Any,
        artifact_file: str,
        *,
        save_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        """Saves a matplotlib or plotly figure in the format the extension names (`.png`,
        `.svg`, `.pdf`, ...; `.html` for plotly, other plotly formats need kaleido)."""
        path = artifacts.artifact_file(artifact_file)
        data = artifact_formats.figure_bytes(figure, path, save_kwargs)
        self._log_bytes(run_id, data, path)

    def log_image(self, run_id: str, image: Any, artifact_file: str) -> None:
        """Saves a PIL image or a NumPy array (floats in [0, 1] or integers in [0, 255]) as
        PNG, or the format the extension names. Needs the `pillow` package."""
        path = artifacts.artifact_file(artifact_file)
        self._log_bytes(run_id, artifact_formats.image_bytes(image, path), path)

    def log_table(self, run_id: str, data: Any, artifact_file: str) -> None:
        """Saves a pandas DataFrame or a dict of columns as MLflow's JSON table
        (`{"columns": [...], "data": [[...], ...]}`), which the UI shows as a table. Rows are
        appended when the file exists, as in MLflow."""
        path = artifacts.artifact_file(artifact_file)
        table = artifact_formats.table(data)
        uri = self.get_artifact_uri(run_id)
        try:
            existing = json.loads(artifacts.read_bytes(self.backend.artifacts, uri, path))
        except NotFound:
            existing = None
        if isinstance(existing, dict):
            table = artifact_formats.append_rows(existing, table)
        self._log_bytes(run_id, json.dumps(table).encode("utf-8"), path)
        self._note_logged_artifact(run_id, path, "table")

    def _note_logged_artifact(self, run_id: str, path: str, kind: str) -> None:
        # MLflow compat: the UI finds tables through this run tag.
        tags = self.get_run(run_id).data.tags
        try:
            logged = json.loads(tags.get(reserved.LOGGED_ARTIFACTS, "[]"))
        except ValueError:
            logged = []
        entry = {"path": path, "type": kind}
        if entry not in logged:
            self.set_tag(run_id, reserved.LOGGED_ARTIFACTS, json.dumps([*logged, entry]))

    def list_artifacts(self, run_id: str, path: str | None = None) -> list[FileInfo]:
        """One directory level of the run's artifacts (the root with no `path`); paths are
        relative to the run's artifact root."""
        folder = artifacts.artifact_dir(path)
        uri = self.get_artifact_uri(run_id)
        return sorted(artifacts.list_all(self.backend.artifacts, uri, folder), key=_path)

    def download_artifacts(
        self, run_id: str, path: str = "", dst_path: str | os.PathLike[str] | None = None
    ) -> str:
        """Downloads one file or a whole directory of the run's artifacts ("" for all) to
        `<dst_path>/<path>` (a new temporary directory with no `dst_path`); returns that path.

        Raises:
            NotFound: there is no artifact at `path`.
        """
        folder = artifacts.artifact_dir(path)
        uri = self.get_artifact_uri(run_id)
        return artifacts.download(self.backend.artifacts, uri, folder, dst_path)

    def _load(self, artifact_uri: str) -> tuple[bytes, str]:
        directory, path = artifacts.split_uri(artifact_uri, self.get_artifact_uri)
        if not path:
            raise NotFound(f"{artifact_uri!r} names a directory, not a file")
        return artifacts.read_bytes(self.backend.artifacts, directory, path), path

    def load_text(self, artifact_uri: str) -> str:
        """The text of an artifact, e.g. `runs:/<run_id>/notes.txt` or `mlflow-artifacts:/...`."""
        return self._load(artifact_uri)[0].decode("utf-8")

    def load_dict(self, artifact_uri: str) -> dict[str, Any]:
        """The dict in a JSON (or, by extension, YAML) artifact."""
        data, name = self._load(artifact_uri)
        return artifact_formats.load_dict_bytes(data, name)

    def load_image(self, artifact_uri: str) -> Image:
        """An image artifact as a PIL image. Needs the `pillow` package."""
        return artifact_formats.load_image_bytes(self._load(artifact_uri)[0])


def _path(info: FileInfo) -> str:
    return info.path


def _strings(mapping: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items()}


def _open_backend(uri: str) -> Backend:
    # Imported here: httpx and SQLAlchemy load only when a client first talks to a backend.
    if backend_kind(uri) == "http":
        from heron.client.http import HttpBackend

        return HttpBackend(uri)
    from heron.client.local import LocalBackend

    return LocalBackend(uri)
