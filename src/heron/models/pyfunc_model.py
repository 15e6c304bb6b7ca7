"""`PyFuncModel`: any model behind one `predict(data, params=None)`, its signature enforced."""

from __future__ import annotations

import importlib
import platform
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

from heron.errors import InvalidParameter
from heron.models.enforcement import enforce_input, enforce_params
from heron.models.environment import warn_on_version_mismatch
from heron.models.mlmodel import Model
from heron.models.python_model import LoadedPythonModel, PythonModel


class Predictor(Protocol):
    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any: ...


# MLmodel's `loader_module` -> "module:function(directory, model) -> Predictor" in Heron.
LOADERS = {
    "mlflow.sklearn": "heron.models.flavors.sklearn:load_pyfunc",
    "heron.models.flavors.sklearn": "heron.models.flavors.sklearn:load_pyfunc",
    "mlflow.xgboost": "heron.models.flavors.xgboost:load_pyfunc",
    "mlflow.lightgbm": "heron.models.flavors.lightgbm:load_pyfunc",
    "mlflow.statsmodels": "heron.models.flavors.statsmodels:load_pyfunc",
    "mlflow.onnx": "heron.models.flavors.onnx:load_pyfunc",
    "mlflow.pytorch": "heron.models.flavors.pytorch:load_pyfunc",
    "mlflow.pyfunc.model": "heron.models.python_model:load_python_model",
    "mlflow.pyfunc.loaders.code_model": "heron.models.python_model:load_python_model",
}


class PyFuncModel:
    """A loaded model: `predict` checks the input against the signature, then runs the model.

    Example:
        >>> model = heron.pyfunc.load_model("models:/iris@champion")
        >>> model.predict(df)
    """

    def __init__(self, metadata: Model, implementation: Predictor, path: Path) -> None:
        self.metadata = metadata
        self.path = path
        self._implementation = implementation
        signature = metadata.signature
        self._inputs = signature.inputs if signature is not None else None
        self._params = signature.params if signature is not None else None
        self._has_signature = signature is not None

    @property
    def loader_module(self) -> str:
        return str(self.metadata.pyfunc.get("loader_module"))

    @property
    def model_id(self) -> str | None:
        return self.metadata.model_id

    def predict(self, data: Any, params: Mapping[str, Any] | None = None) -> Any:
        """The model's prediction for `data` (a DataFrame, NumPy array, dict or list).

        Raises:
            InvalidParameter: `data` or `params` does not fit the model's signature (the
                message names the column, tensor or parameter).
        """
        if self._inputs is not None:
            data = enforce_input(data, self._inputs)
        if params is None and self._params is None:
            return self._implementation.predict(data, None)
        checked = enforce_params(params, self._params, self._has_signature)
        return self._implementation.predict(data, checked)

    @property
    def streams(self) -> bool:
        """Whether `predict_stream` works: a custom model that defines `predict_stream`."""
        return bool(getattr(self._implementation, "streams", False))

    def predict_stream(self, data: Any, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """The model's answer in chunks (its `predict_stream` generator), input checked first.

        Raises:
            InvalidParameter: the model does not stream, or `data`/`params` do not fit.
        """
        if not self.streams:
            raise InvalidParameter(
                f"This model does not stream (loader_module {self.loader_module!r}): only a "
                "PythonModel that defines predict_stream does"
            )
        if self._inputs is not None:
            data = enforce_input(data, self._inputs)
        checked = enforce_params(params, self._params, self._has_signature)
        stream: Iterator[Any] = self._implementation.predict_stream(data, checked)  # type: ignore[attr-defined]
        return stream

    def unwrap_python_model(self) -> PythonModel:
        """The user's `PythonModel` inside a custom pyfunc model."""
        if not isinstance(self._implementation, LoadedPythonModel):
            raise InvalidParameter(
                f"unwrap_python_model needs a custom Python model; this one is loaded by "
                f"{self.loader_module}"
            )
        model: PythonModel = self._implementation.python_model
        return model

    def get_raw_model(self) -> Any:
        """The framework's own model object (the estimator of an sklearn model, ...)."""
        return getattr(self._implementation, "raw_model", self._implementation)

    def __repr__(self) -> str:
        return f"PyFuncModel(loader_module={self.loader_module!r}, path={str(self.path)!r})"


def load_pyfunc(directory: Path) -> PyFuncModel:
    """The model in a local directory, loaded through its python_function flavor."""
    model = Model.load(directory)
    conf = model.pyfunc
    warn_on_version_mismatch("Python", conf.get("python_version"), platform.python_version())
    loader = str(conf.get("loader_module", ""))
    target = LOADERS.get(loader)
    if target is None:
        raise InvalidParameter(
            f"Heron cannot load models with loader_module {loader!r}; it loads {sorted(LOADERS)}"
        )
    module, _, function = target.partition(":")
    load: Callable[[Path, Model], Predictor] = getattr(importlib.import_module(module), function)
    return PyFuncModel(model, load(directory, model), directory)
