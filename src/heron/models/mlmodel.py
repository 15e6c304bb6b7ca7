"""The `MLmodel` file: a model directory's YAML description, in MLflow's format.

The fields are the ones MLflow 3.17.2 writes (`flavors`, `model_uuid`, `model_id`, `run_id`,
`artifact_path`, `utc_time_created`, `mlflow_version`, `signature`, `saved_input_example_info`,
`model_size_bytes`, ...); fields Heron does not know are kept as they are, so a model read
and written back loses nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from heron.errors import InvalidParameter, NotFound
from heron.models.signature import ModelSignature

MLMODEL_FILE = "MLmodel"
PYFUNC_FLAVOR = "python_function"
# The MLflow version whose format Heron writes: MLflow reads the file as one of its own.
MLFLOW_FORMAT_VERSION = "3.17.2"

# libyaml's C loader when PyYAML has it: parsing is most of a model's load time otherwise.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

_KNOWN = {
    "artifact_path",
    "flavors",
    "model_uuid",
    "model_id",
    "run_id",
    "utc_time_created",
    "mlflow_version",
    "signature",
    "saved_input_example_info",
    "model_size_bytes",
    "metadata",
}


@dataclass(slots=True)
class Model:
    """What an `MLmodel` file says: the flavors a model can be loaded as, and its metadata."""

    flavors: dict[str, dict[str, Any]] = field(default_factory=dict)
    model_uuid: str = field(default_factory=lambda: uuid.uuid4().hex)
    model_id: str | None = None
    run_id: str | None = None
    artifact_path: str | None = None
    utc_time_created: str = field(
        default_factory=lambda: str(dt.datetime.now(dt.UTC).replace(tzinfo=None))
    )
    mlflow_version: str | None = MLFLOW_FORMAT_VERSION
    signature: ModelSignature | None = None
    saved_input_example_info: dict[str, Any] | None = None
    model_size_bytes: int | None = None
    metadata: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def add_flavor(self, name: str, **params: Any) -> Model:
        self.flavors[name] = params
        return self

    @property
    def pyfunc(self) -> dict[str, Any]:
        """The `python_function` flavor. Raises InvalidParameter when the model has none."""
        conf = self.flavors.get(PYFUNC_FLAVOR)
        if conf is None:
            raise InvalidParameter(
                f"This model has no {PYFUNC_FLAVOR} flavor (it has {sorted(self.flavors)}): "
                "load it with its own flavor's load_model"
            )
        return conf

    def load_input_example(self, path: str | os.PathLike[str]) -> Any:
        """The input example saved in the model directory `path` (a DataFrame, an array or
        JSON data; `(input, params)` when saved with params), or None."""
        from heron.models.input_example import load_example

        return load_example(Path(path), self.saved_input_example_info)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(self.extra)
        out.update(
            flavors=self.flavors,
            model_uuid=self.model_uuid,
            model_id=self.model_id,
            utc_time_created=self.utc_time_created,
            mlflow_version=self.mlflow_version,
        )
        if self.run_id is not None:
            out["run_id"] = self.run_id
        if self.artifact_path is not None:
            out["artifact_path"] = self.artifact_path
        if self.signature is not None:
            out["signature"] = self.signature.to_dict()
            out.setdefault("is_signature_from_type_hint", False)
            out.setdefault("type_hint_from_example", False)
        if self.saved_input_example_info is not None:
            out["saved_input_example_info"] = self.saved_input_example_info
        if self.model_size_bytes is not None:
            out["model_size_bytes"] = self.model_size_bytes
        if self.metadata is not None:
            out["metadata"] = self.metadata
        out.setdefault("prompts", None)
        return out

    def to_yaml(self) -> str:
        return yaml.dump(self.to_dict(), Dumper=_DUMPER, default_flow_style=False, sort_keys=True)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Writes `path` (the MLmodel file itself)."""
        Path(path).write_text(self.to_yaml(), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Model:
        flavors = data.get("flavors")
        if not isinstance(flavors, dict):
            raise InvalidParameter("The MLmodel file has no 'flavors' mapping")
        signature = data.get("signature")
        size = data.get("model_size_bytes")
        return cls(
            flavors={str(k): dict(v or {}) for k, v in flavors.items()},
            model_uuid=str(data.get("model_uuid") or uuid.uuid4().hex),
            model_id=data.get("model_id"),
            run_id=data.get("run_id"),
            artifact_path=data.get("artifact_path"),
            utc_time_created=str(data.get("utc_time_created") or ""),
            mlflow_version=data.get("mlflow_version"),
            signature=ModelSignature.from_dict(signature) if isinstance(signature, dict) else None,
            saved_input_example_info=data.get("saved_input_example_info"),
            model_size_bytes=int(size) if size is not None else None,
            metadata=data.get("metadata"),
            extra={k: v for k, v in data.items() if k not in _KNOWN},
        )

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Model:
        """Reads a model directory's MLmodel (or the MLmodel file named directly).

        Raises:
            NotFound: there is no MLmodel file.
            InvalidParameter: the file is not valid YAML of the expected shape.
        """
        path = Path(path)
        if path.is_dir():
            path = path / MLMODEL_FILE
        if not path.is_file():
            raise NotFound(f"No {MLMODEL_FILE} file at {str(path)!r}: is this a model directory?")
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 (a safe loader)
        except yaml.YAMLError as exc:
            raise InvalidParameter(f"{str(path)!r} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise InvalidParameter(f"{str(path)!r} does not hold a mapping")
        return cls.from_dict(data)


def directory_size(path: str | os.PathLike[str]) -> int:
    """The total size in bytes of the files under `path` (MLmodel's `model_size_bytes`)."""
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            total += os.path.getsize(os.path.join(directory, name))
    return total
