"""`ModelInfo`: what `log_model` returns and `get_model_info` reads from a model's MLmodel."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heron.models import uri as model_uri
from heron.models.mlmodel import MLMODEL_FILE, Model
from heron.models.signature import ModelSignature


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelInfo:
    """A logged or saved model's metadata (MLflow's `ModelInfo` fields)."""

    model_uri: str
    flavors: dict[str, Any]
    model_uuid: str
    utc_time_created: str
    mlflow_version: str | None
    artifact_path: str | None = None
    run_id: str | None = None
    model_id: str | None = None
    name: str | None = None
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    registered_model_version: int | None = None
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def signature_dict(self) -> dict[str, str | None] | None:
        return self.signature.to_dict() if self.signature is not None else None

    @classmethod
    def from_model(cls, uri: str, model: Model, **extra: Any) -> ModelInfo:
        return cls(
            model_uri=uri,
            flavors=model.flavors,
            model_uuid=model.model_uuid,
            utc_time_created=model.utc_time_created,
            mlflow_version=model.mlflow_version,
            artifact_path=model.artifact_path,
            run_id=model.run_id,
            model_id=model.model_id,
            signature=model.signature,
            saved_input_example_info=model.saved_input_example_info,
            metadata=model.metadata,
            **extra,
        )


def get_model_info(uri: str) -> ModelInfo:
    """The metadata of the model at `uri`, reading only its MLmodel file.

    Raises:
        NotFound: there is no model at `uri`.
    """
    local = model_uri.local_path(uri)
    if local is not None:
        return ModelInfo.from_model(uri, Model.load(local))
    client = model_uri.default_client()
    location, sub_path = model_uri.artifact_location(uri, client)
    with tempfile.TemporaryDirectory() as temp:
        path = f"{sub_path.rstrip('/')}/{MLMODEL_FILE}" if sub_path else MLMODEL_FILE
        fetched = model_uri.fetch(client, location, path, Path(temp))
        return ModelInfo.from_model(uri, Model.load(fetched))
