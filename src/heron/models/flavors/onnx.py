"""The ONNX flavor: an `onnx.ModelProto` run with onnxruntime, in MLflow's layout
(`model.onnx`, flavor `onnx` with execution providers, loader_module `mlflow.onnx`)."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from heron.errors import InvalidParameter
from heron.models import logged, model_dir, saving
from heron.models import uri as model_uri
from heron.models.info import ModelInfo
from heron.models.mlmodel import Model

FLAVOR = saving.Flavor(
    name="onnx", loader_module="mlflow.onnx", module="onnx", version_key="onnx_version"
)
DATA_FILE = "model.onnx"
PROVIDERS = ["CUDAExecutionProvider", "CPUExecutionProvider"]


def save_model(
    onnx_model: Any,
    path: str | os.PathLike[str],
    *,
    onnx_execution_providers: Sequence[str] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    mlflow_model: Model | None = None,
    **options: Any,
) -> Model:
    """Saves an ONNX model to a new directory; it predicts through onnxruntime.

    `options`: `signature`, `input_example`, `pip_requirements`, `extra_pip_requirements`,
    `metadata`.
    """
    import onnx

    if not isinstance(onnx_model, onnx.ModelProto):
        raise InvalidParameter(f"Not an ONNX model: {type(onnx_model).__name__}")
    onnx.checker.check_model(onnx_model)
    providers = list(onnx_execution_providers or PROVIDERS)

    def write(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        onnx.save_model(onnx_model, str(directory / DATA_FILE))
        return {"data": DATA_FILE, "providers": providers}, {"data": DATA_FILE}

    return saving.save_flavor(
        FLAVOR,
        path,
        write,
        OnnxPredictor(onnx_model.SerializeToString(), providers).predict,
        code_paths=code_paths,
        mlflow_model=mlflow_model,
        extra_requirements=saving.requirements_of("onnxruntime"),
        options=options,
    )


def log_model(onnx_model: Any, name: str | None = None, **options: Any) -> ModelInfo:
    """Logs an ONNX model as a LoggedModel."""
    return logged.log_flavor(save_model, onnx_model, name, options)


def _data_file(directory: Path, model: Model) -> tuple[Path, dict[str, Any]]:
    conf = FLAVOR.conf(directory, model)
    return model_dir.inside(directory, str(conf.get("data", DATA_FILE)), "model file"), conf


def load_model(uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """The `onnx.ModelProto` at a path or model URI."""
    import onnx

    directory = model_uri.download_model(os.fspath(uri), dst_path)
    file, _ = _data_file(directory, Model.load(directory))
    return onnx.load(str(file))


class OnnxPredictor:
    """Feeds a DataFrame (one column per input, or all columns to a single input), an array
    (a single input) or a dict of arrays (by input name) to an onnxruntime session."""

    def __init__(self, model: bytes | str, providers: Sequence[str]) -> None:
        import onnxruntime

        available = set(onnxruntime.get_available_providers())
        chosen = [p for p in providers if p in available] or ["CPUExecutionProvider"]
        self.raw_model = onnxruntime.InferenceSession(model, providers=chosen)
        self._inputs = self.raw_model.get_inputs()
        self._outputs = [o.name for o in self.raw_model.get_outputs()]

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import pandas as pd

        feed = self._feed(data)
        results = self.raw_model.run(None, feed)
        if isinstance(data, pd.DataFrame):
            return pd.DataFrame(
                {name: list(value) for name, value in zip(self._outputs, results, strict=True)}
            )
        return dict(zip(self._outputs, results, strict=True))

    def _feed(self, data: Any) -> dict[str, np.ndarray[Any, Any]]:
        import pandas as pd

        names = [i.name for i in self._inputs]
        if isinstance(data, pd.DataFrame):
            if set(names) <= set(data.columns) and len(names) > 1:
                data = {name: data[name].to_numpy() for name in names}
            else:
                data = data.to_numpy()
        if isinstance(data, Mapping):
            missing = [n for n in names if n not in data]
            if missing:
                raise InvalidParameter(f"The ONNX model is missing inputs {missing}")
            return {i.name: _typed(data[i.name], i.type) for i in self._inputs}
        if len(names) != 1:
            raise InvalidParameter(f"The ONNX model takes inputs {names}: pass a dict of arrays")
        return {names[0]: _typed(data, self._inputs[0].type)}


_ONNX_TYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
    "tensor(bool)": np.bool_,
}


def _typed(value: Any, onnx_type: str) -> np.ndarray[Any, Any]:
    array = np.asarray(value)
    wanted = _ONNX_TYPES.get(onnx_type)
    if wanted is not None and array.dtype != wanted:
        if not np.can_cast(array.dtype, wanted, "same_kind"):
            raise InvalidParameter(f"Cannot feed {array.dtype} to an ONNX input of {onnx_type}")
        array = array.astype(wanted)
    return array


def load_pyfunc(directory: Path, model: Model) -> OnnxPredictor:
    file, conf = _data_file(directory, model)
    return OnnxPredictor(str(file), conf.get("providers") or PROVIDERS)
