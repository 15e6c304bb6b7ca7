"""The fluent API's artifact functions (`heron.log_artifact()`, `heron.load_dict()`, ...).

Logging goes to the active run (one is started, as in MLflow, when there is none) unless a
`run_id` is given; `list_artifacts`, `download_artifacts` and `load_*` take artifact URIs like
MLflow's `mlflow.artifacts` module: `runs:/<run_id>/<path>` or `mlflow-artifacts:/...`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from heron.client import artifacts
from heron.client.fluent.state import active_run, active_run_id, tracking_client
from heron.entities import FileInfo
from heron.errors import InvalidParameter

if TYPE_CHECKING:
    from PIL.Image import Image


def log_artifact(
    local_path: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Uploads a local file to the active run, under `artifact_path` if given."""
    tracking_client().log_artifact(run_id or active_run_id(), local_path, artifact_path)


def log_artifacts(
    local_dir: str | os.PathLike[str], artifact_path: str | None = None, run_id: str | None = None
) -> None:
    """Uploads every file under `local_dir` (nested directories included)."""
    tracking_client().log_artifacts(run_id or active_run_id(), local_dir, artifact_path)


def log_text(text: str, artifact_file: str, run_id: str | None = None) -> None:
    """Writes `text` to the file `artifact_file` of the active run.

    Example:
        >>> heron.log_text("all good", "notes/summary.txt")
    """
    tracking_client().log_text(run_id or active_run_id(), text, artifact_file)


def log_dict(dictionary: Mapping[str, Any], artifact_file: str, run_id: str | None = None) -> None:
    """Writes a dict as YAML (`.yaml`/`.yml`) or JSON (any other name)."""
    tracking_client().log_dict(run_id or active_run_id(), dictionary, artifact_file)


def log_figure(
    figure: Any,
    artifact_file: str,
    *,
    save_kwargs: Mapping[str, Any] | None = None,
    run_id: str | None = None,
) -> None:
    """Saves a matplotlib or plotly figure in the format the extension names."""
    tracking_client().log_figure(
        run_id or active_run_id(), figure, artifact_file, save_kwargs=save_kwargs
    )


def log_image(image: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Saves a PIL image or a NumPy array as PNG (or the extension's format); needs pillow."""
    tracking_client().log_image(run_id or active_run_id(), image, artifact_file)


def log_table(data: Any, artifact_file: str, run_id: str | None = None) -> None:
    """Saves a pandas DataFrame or a dict of columns as MLflow's JSON table format."""
    tracking_client().log_table(run_id or active_run_id(), data, artifact_file)


def get_artifact_uri(artifact_path: str | None = None) -> str:
    """The active run's artifact URI, or the URI of `artifact_path` inside it.

    Raises:
        InvalidParameter: there is no active run.
    """
    active = active_run()
    if active is None:
        raise InvalidParameter("get_artifact_uri needs an active run: call heron.start_run()")
    root = active.info.artifact_uri
    path = artifacts.artifact_dir(artifact_path)
    return f"{root.rstrip('/')}/{path}" if path else root


def _locate(
    artifact_uri: str | None, run_id: str | None, artifact_path: str | None
) -> tuple[str, str]:
    """(a directory URI, a path under it) from MLflow's `mlflow.artifacts` arguments."""
    client = tracking_client()
    if artifact_uri is not None and run_id is None and artifact_path is None:
        return artifacts.split_uri(artifact_uri, client.get_artifact_uri)
    if artifact_uri is None and run_id is not None:
        return client.get_artifact_uri(run_id), artifacts.artifact_dir(artifact_path)
    raise InvalidParameter("Give either artifact_uri alone, or run_id (and artifact_path)")


def list_artifacts(
    artifact_uri: str | None = None, run_id: str | None = None, artifact_path: str | None = None
) -> list[FileInfo]:
    """One directory level, e.g. `list_artifacts("runs:/<run_id>/plots")` or
    `list_artifacts(run_id=..., artifact_path="plots")`."""
    directory, path = _locate(artifact_uri, run_id, artifact_path)
    entries = artifacts.list_all(tracking_client().backend.artifacts, directory, path)
    return sorted(entries, key=lambda info: info.path)


def download_artifacts(
    artifact_uri: str | None = None,
    run_id: str | None = None,
    artifact_path: str | None = None,
    dst_path: str | os.PathLike[str] | None = None,
) -> str:
    """Downloads a file or a whole directory; returns its local path.

    Example:
        >>> local = heron.download_artifacts("runs:/<run_id>/model")
    """
    directory, path = _locate(artifact_uri, run_id, artifact_path)
    return artifacts.download(tracking_client().backend.artifacts, directory, path, dst_path)


def load_text(artifact_uri: str) -> str:
    """The text of an artifact, e.g. `heron.load_text("runs:/<run_id>/notes.txt")`."""
    return tracking_client().load_text(artifact_uri)


def load_dict(artifact_uri: str) -> dict[str, Any]:
    """The dict in a JSON (or, by extension, YAML) artifact."""
    return tracking_client().load_dict(artifact_uri)


def load_image(artifact_uri: str) -> Image:
    """An image artifact as a PIL image; needs pillow."""
    return tracking_client().load_image(artifact_uri)
