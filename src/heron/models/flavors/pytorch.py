"""The PyTorch flavor: a whole `torch.nn.Module` saved with `torch.save` (cloudpickle), in
MLflow's layout (`data/model.pth`, `data/pickle_module_info.txt`, flavor `pytorch`,
loader_module `mlflow.pytorch`). Models MLflow exported in its `pt2` format load too.
Loading unpickles the module, which runs code from the file: only load models you trust."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from heron.errors import InvalidParameter
from heron.models import environment, logged, model_dir, pickles, saving
from heron.models import uri as model_uri
from heron.models.info import ModelInfo
from heron.models.mlmodel import Model

FLAVOR = saving.Flavor(
    name="pytorch", loader_module="mlflow.pytorch", module="torch", version_key="pytorch_version"
)
DATA_DIR = "data"
MODEL_FILE = "model.pth"
PT2_FILE = "model.pt2"
PICKLE_MODULE_FILE = "pickle_module_info.txt"


def save_model(
    pytorch_model: Any,
    path: str | os.PathLike[str],
    *,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    mlflow_model: Model | None = None,
    **options: Any,
) -> Model:
    """Saves a `torch.nn.Module` to a new directory (the whole module, pickled).

    `options`: `signature`, `input_example`, `pip_requirements`, `extra_pip_requirements`,
    `metadata`.
    """
    import cloudpickle
    import torch

    if not isinstance(pytorch_model, torch.nn.Module):
        raise InvalidParameter(f"Not a torch.nn.Module: {type(pytorch_model).__name__}")

    def write(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        data = directory / DATA_DIR
        data.mkdir()
        torch.save(pytorch_model, data / MODEL_FILE, pickle_module=cloudpickle)
        (data / PICKLE_MODULE_FILE).write_text("cloudpickle", encoding="utf-8")
        flavor = {"model_data": DATA_DIR}
        return flavor, {"data": DATA_DIR, "pickle_module_name": "cloudpickle"}

    return saving.save_flavor(
        FLAVOR,
        path,
        write,
        TorchPredictor(pytorch_model).predict,
        code_paths=code_paths,
        mlflow_model=mlflow_model,
        extra_requirements=[environment.pinned("cloudpickle")],
        options=options,
    )


def log_model(pytorch_model: Any, name: str | None = None, **options: Any) -> ModelInfo:
    """Logs a PyTorch module as a LoggedModel."""
    return logged.log_flavor(save_model, pytorch_model, name, options)


def load_from_directory(directory: Path, model: Model | None = None) -> Any:
    import torch

    conf = FLAVOR.conf(directory, model)
    data = model_dir.inside(directory, str(conf.get("model_data", DATA_DIR)), "model data")
    if (data / PT2_FILE).is_file():
        return torch.export.load(str(data / PT2_FILE)).module()
    file = model_dir.inside(data, MODEL_FILE, "model file")
    # MLflow's pickle module is cloudpickle under another name; its pickles are plain ones.
    return torch.load(file, weights_only=False, pickle_module=pickles)


def load_model(uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """The `torch.nn.Module` at a path or model URI."""
    return load_from_directory(model_uri.download_model(os.fspath(uri), dst_path))


class TorchPredictor:
    """Runs the module in eval mode without gradients on a DataFrame's values or an array
    (as float32 when they are floats); returns an array (a DataFrame for a DataFrame)."""

    def __init__(self, raw_model: Any) -> None:
        self.raw_model = raw_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import pandas as pd
        import torch

        values = data.to_numpy() if isinstance(data, pd.DataFrame) else np.asarray(data)
        if values.dtype == np.float64:
            values = values.astype(np.float32)
        elif not values.flags.writeable:  # pandas hands out read-only views; torch wants to own
            values = values.copy()
        self.raw_model.eval()
        with torch.no_grad():
            output = self.raw_model(torch.from_numpy(values)).numpy()
        return pd.DataFrame(output) if isinstance(data, pd.DataFrame) else output


def load_pyfunc(directory: Path, model: Model) -> TorchPredictor:
    return TorchPredictor(load_from_directory(directory, model))
