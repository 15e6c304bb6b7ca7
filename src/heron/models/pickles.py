"""Reading and writing a model's pickles (cloudpickle), including ones MLflow wrote.

Unpickling runs code from the file by design: loading a model is the model owner's trust
decision (see docs/models.md). A pickle written by MLflow refers to MLflow's base classes
(`mlflow.pyfunc.model.PythonModel`); those names resolve to Heron's equivalents here, so the
model loads without `mlflow` installed.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from heron.errors import InvalidParameter

# (module, name) in an MLflow pickle -> (module, name) in Heron.
_MLFLOW_NAMES = {
    ("mlflow.pyfunc.model", "PythonModel"): ("heron.models.python_model", "PythonModel"),
    ("mlflow.pyfunc", "PythonModel"): ("heron.models.python_model", "PythonModel"),
    ("mlflow.pyfunc.model", "PythonModelContext"): (
        "heron.models.python_model",
        "PythonModelContext",
    ),
    ("mlflow.models.signature", "_TypeHints"): ("heron.models.pickles", "MlflowTypeHints"),
}


class MlflowTypeHints:
    """Stands in for the type hints MLflow stores on a PythonModel class (Heron ignores them)."""


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        mapped = _MLFLOW_NAMES.get((module, name))
        if mapped is not None:
            module, name = mapped
        elif module == "mlflow" or module.startswith("mlflow."):
            try:
                return super().find_class(module, name)
            except ImportError:
                raise InvalidParameter(
                    f"This model's pickle uses {module}.{name}, an MLflow class Heron does "
                    "not provide: load it with MLflow, or log it again with Heron"
                ) from None
        return super().find_class(module, name)


# `pickle_module` for torch.load: its pickles load through the same mapping.
Unpickler = _Unpickler


def load(path: Path) -> Any:
    """The object pickled at `path` (cloudpickle or plain pickle)."""
    with path.open("rb") as file:
        return _Unpickler(file).load()


def dump(obj: Any, path: Path) -> bytes:
    """Pickles `obj` with cloudpickle to `path`; returns the bytes written."""
    import cloudpickle

    data: bytes = cloudpickle.dumps(obj)
    path.write_bytes(data)
    return data
