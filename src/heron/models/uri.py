"""Model URIs: where a model's files are, and fetching them into a local directory.

`runs:/<run_id>/<path>`, `models:/<model_id>`, `models:/<name>/<version>` (or `latest`),
`models:/<name>@<alias>`, local paths, `file://`, `s3://` and `mlflow-artifacts:/` URIs.
Remote files come down through the client's artifact layer, which refuses any path that
escapes the artifact root.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from heron.errors import InvalidParameter, NotFound
from heron.models.mlmodel import MLMODEL_FILE

if TYPE_CHECKING:
    from heron.client.client import HeronClient

_REMOTE_SCHEMES = ("s3", "mlflow-artifacts", "http", "https", "gs", "wasbs")


@dataclass(frozen=True, slots=True)
class ParsedModelUri:
    """What a `models:/` URI names: a logged model id, or a registered model's version or
    alias (one of them), and the path under the model's root."""

    model_id: str | None = None
    name: str | None = None
    version: str | None = None
    alias: str | None = None
    sub_path: str = ""


def parse_models_uri(uri: str) -> ParsedModelUri:
    """Splits `models:/...`.

    Raises:
        InvalidParameter: not a `models:/` URI, or one with no model in it.
    """
    if not uri.startswith("models:"):
        raise InvalidParameter(f"{uri!r} is not a models:/ URI")
    rest = uri[len("models:") :].lstrip("/")
    if not rest:
        raise InvalidParameter(
            f"{uri!r} names no model: use models:/<model_id>, models:/<name>/<version> "
            "or models:/<name>@<alias>"
        )
    head, _, sub_path = rest.partition("/")
    if "@" in head:
        name, _, alias = head.partition("@")
        if not name or not alias:
            raise InvalidParameter(f"{uri!r}: use models:/<name>@<alias>")
        return ParsedModelUri(name=name, alias=alias, sub_path=sub_path)
    if not sub_path:
        return ParsedModelUri(model_id=head)
    version, _, sub_path = sub_path.partition("/")
    if version != "latest" and not version.isdigit():
        raise InvalidParameter(
            f"{uri!r}: the version must be a number or 'latest', got {version!r}"
        )
    return ParsedModelUri(name=head, version=version, sub_path=sub_path)


def local_path(uri: str) -> Path | None:
    """The local directory a path or `file://` URI names; None for any other scheme."""
    if "://" not in uri and ":" not in uri.split("/", 1)[0]:
        return Path(uri).expanduser()
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return Path(unquote(parsed.path))
    if len(parsed.scheme) == 1:  # a Windows drive letter
        return Path(uri)
    return None


def download_model(
    model_uri: str,
    dst_path: str | os.PathLike[str] | None = None,
    client: HeronClient | None = None,
) -> Path:
    """A local directory holding the model's files: the directory itself for a local URI,
    otherwise a download into `dst_path` (a new temporary directory when None).

    Raises:
        NotFound: no model is there.
        InvalidParameter: a malformed URI.
    """
    local = local_path(str(model_uri))
    if local is not None:
        if not local.exists():
            raise NotFound(f"No model at {str(local)!r}")
        return local.resolve()
    client = client or default_client()
    destination = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp())
    location, sub_path = artifact_location(str(model_uri), client)
    return fetch(client, location, sub_path, destination)


def artifact_location(model_uri: str, client: HeronClient) -> tuple[str, str]:
    """(an artifact URI, a path under it) where the model's files are."""
    if model_uri.startswith("runs:"):
        return _run_location(model_uri, client)
    if model_uri.startswith("models:"):
        parsed = parse_models_uri(model_uri)
        if parsed.model_id is not None:
            return client.get_logged_model(parsed.model_id).artifact_location, ""
        name = str(parsed.name)
        version = str(parsed.version)
        if parsed.alias is not None:
            version = str(client.get_model_version_by_alias(name, parsed.alias).version)
        elif version == "latest":
            versions = client.get_latest_versions(name)
            if not versions:
                raise NotFound(f"Registered model {name!r} has no versions")
            version = str(max(int(v.version) for v in versions))
        return client.get_model_version_download_uri(name, version), parsed.sub_path
    scheme = model_uri.split(":", 1)[0].lower()
    if scheme in _REMOTE_SCHEMES:
        return model_uri, ""
    raise InvalidParameter(
        f"Unsupported model URI {model_uri!r}: use runs:/, models:/, s3://, a path or file://"
    )


def _run_location(model_uri: str, client: HeronClient) -> tuple[str, str]:
    """`runs:/<run_id>/<path>`: the run's artifacts at `<path>` if a model is there, else
    (MLflow 3) the run's logged model named `<path>`."""
    from heron.client import artifacts

    rest = model_uri[len("runs:") :].lstrip("/")
    run_id, _, path = rest.partition("/")
    if not run_id:
        raise InvalidParameter(f"{model_uri!r} names no run: use runs:/<run_id>/<path>")
    path = artifacts.artifact_dir(path)
    run_uri = client.get_artifact_uri(run_id)
    names = {info.path.rsplit("/", 1)[-1] for info in client.list_artifacts(run_id, path or None)}
    if MLMODEL_FILE in names or not path:
        return run_uri, path
    if "'" not in path:  # a name with a quote cannot be a LoggedModel's name
        experiment_id = client.get_run(run_id).info.experiment_id
        page = client.search_logged_models(
            [experiment_id],
            filter_string=f"source_run_id = '{run_id}' AND name = '{path}'",
            max_results=1,
        )
        for logged in page:
            return logged.artifact_location, ""
    raise NotFound(f"Run {run_id!r} has no model at {path!r}")


def fetch(client: HeronClient, location: str, sub_path: str, destination: Path) -> Path:
    """Downloads the tree at `location`/`sub_path` into `destination`."""
    from heron.client import artifacts

    local = local_path(location)
    if local is not None and not sub_path:
        if not local.is_dir():
            raise NotFound(f"No model at {location!r}")
        return local.resolve()
    folder = artifacts.artifact_dir(sub_path)
    return Path(artifacts.download(client.backend.artifacts, location, folder, destination))


def default_client() -> HeronClient:
    """The client on the tracking URI in effect (`heron.set_tracking_uri`, the environment):
    the fluent API's, one per URI for the process."""
    from heron.client.fluent.state import tracking_client

    return tracking_client()


def close_clients() -> None:
    """Closes the clients `default_client` opened (they reconnect if used again)."""
    from heron.client.fluent.state import close_clients as close_fluent_clients

    close_fluent_clients()
