"""`log_model`: a model saved as a LoggedModel (MLflow 3), optionally registered.

The flow MLflow 3's clients follow: create the LoggedModel (PENDING) for the active run,
write the model to a temporary directory, upload its files to the LoggedModel's
`artifact_location`, record the model as the run's output, finalize it READY (UPLOAD_FAILED if
anything failed on the way), then register it when `registered_model_name` is given.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from heron.errors import InvalidParameter
from heron.models.info import ModelInfo
from heron.models.mlmodel import Model

SaveInto = Callable[[Path, Model], Model]


def log_model(
    save_into: SaveInto,
    *,
    name: str | None,
    artifact_path: str | None = None,
    registered_model_name: str | None = None,
    params: Mapping[str, Any] | None = None,
    tags: Mapping[str, Any] | None = None,
    model_type: str | None = None,
    step: int = 0,
    model_id: str | None = None,
) -> ModelInfo:
    """Logs the model `save_into(directory, mlmodel)` writes; returns its ModelInfo with
    `model_uri` = `models:/<model_id>`.

    Args:
        name: the LoggedModel's name (MLflow 3); `artifact_path` is the older spelling.
        model_id: log into this existing PENDING LoggedModel (from `initialize_logged_model`)
            instead of creating one.
    """
    from heron.client import artifacts
    from heron.client.fluent.logged_models import initialize_logged_model
    from heron.client.fluent.state import active_run
    from heron.entities import LoggedModelOutput, LoggedModelStatus
    from heron.models.uri import default_client

    if name and artifact_path and name != artifact_path:
        raise InvalidParameter("Give the model a name or an artifact_path, not both")
    name = name or artifact_path or "model"
    client = default_client()
    run = active_run()
    if model_id is not None:
        logged = client.get_logged_model(model_id)
    else:
        logged = initialize_logged_model(
            name=name,
            source_run_id=run.info.run_id if run is not None else None,
            tags=tags,
            params=params,
            model_type=model_type,
        )
    try:
        with tempfile.TemporaryDirectory() as temp:
            mlmodel = Model(
                model_uuid=logged.model_id,
                model_id=logged.model_id,
                run_id=logged.source_run_id,
                artifact_path=logged.artifact_location,
            )
            model = save_into(Path(temp) / "model", mlmodel)
            artifacts.upload_tree(
                client.backend.artifacts, logged.artifact_location, Path(temp) / "model", ""
            )
        if logged.source_run_id is not None:
            client.log_outputs(
                logged.source_run_id, [LoggedModelOutput(model_id=logged.model_id, step=step)]
            )
    except BaseException:
        client.finalize_logged_model(logged.model_id, LoggedModelStatus.UPLOAD_FAILED)
        raise
    logged = client.finalize_logged_model(logged.model_id, LoggedModelStatus.READY)
    version = None
    if registered_model_name:
        from heron.client.fluent.registry import register_model

        version = int(register_model(logged.model_uri, registered_model_name).version)
    return ModelInfo.from_model(
        logged.model_uri,
        model,
        name=logged.name,
        params=dict(logged.params),
        tags=dict(logged.tags),
        registered_model_version=version,
    )


_LOG_OPTIONS = {
    "artifact_path",
    "registered_model_name",
    "params",
    "tags",
    "model_type",
    "step",
    "model_id",
}


def log_flavor(
    save_model: Callable[..., Model], model: Any, name: str | None, options: dict[str, Any]
) -> ModelInfo:
    """`log_model` for a flavor whose `save_model(model, path, mlflow_model=..., **rest)`
    takes the options that are not log_model's own."""
    log_options = {k: options.pop(k) for k in list(options) if k in _LOG_OPTIONS}
    return log_model(
        lambda path, mlmodel: save_model(model, path, mlflow_model=mlmodel, **options),
        name=name,
        **log_options,
    )
