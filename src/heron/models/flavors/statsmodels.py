"""The statsmodels flavor: fitted results (e.g. of OLS or GLM) pickled by statsmodels, in
MLflow's layout (`model.statsmodels`, loader_module `mlflow.statsmodels`). Loading unpickles
the model, which runs code from the file: only load models you trust."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from heron.errors import InvalidParameter
from heron.models import logged, model_dir, pickles, saving
from heron.models import uri as model_uri
from heron.models.info import ModelInfo
from heron.models.mlmodel import Model

FLAVOR = saving.Flavor(
    name="statsmodels",
    loader_module="mlflow.statsmodels",
    module="statsmodels",
    version_key="statsmodels_version",
)
DATA_FILE = "model.statsmodels"


def save_model(
    statsmodels_model: Any,
    path: str | os.PathLike[str],
    *,
    remove_data: bool = False,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    mlflow_model: Model | None = None,
    **options: Any,
) -> Model:
    """Saves fitted statsmodels results (what `.fit()` returns) to a new directory.

    `options`: `signature`, `input_example`, `pip_requirements`, `extra_pip_requirements`,
    `metadata`.
    """
    if not callable(getattr(statsmodels_model, "save", None)) or not callable(
        getattr(statsmodels_model, "predict", None)
    ):
        raise InvalidParameter(
            f"Not fitted statsmodels results: {type(statsmodels_model).__name__} (save the "
            "object .fit() returns)"
        )

    def write(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        statsmodels_model.save(str(directory / DATA_FILE), remove_data=remove_data)
        return {"data": DATA_FILE}, {"data": DATA_FILE}

    return saving.save_flavor(
        FLAVOR,
        path,
        write,
        StatsmodelsPredictor(statsmodels_model).predict,
        code_paths=code_paths,
        mlflow_model=mlflow_model,
        options=options,
    )


def log_model(statsmodels_model: Any, name: str | None = None, **options: Any) -> ModelInfo:
    """Logs statsmodels results as a LoggedModel."""
    return logged.log_flavor(save_model, statsmodels_model, name, options)


def load_from_directory(directory: Path, model: Model | None = None) -> Any:
    conf = FLAVOR.conf(directory, model)
    return pickles.load(model_dir.inside(directory, str(conf.get("data", DATA_FILE)), "model"))


def load_model(uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """The statsmodels results at a path or model URI."""
    return load_from_directory(model_uri.download_model(os.fspath(uri), dst_path))


class StatsmodelsPredictor:
    def __init__(self, raw_model: Any) -> None:
        self.raw_model = raw_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.raw_model.predict(data)


def load_pyfunc(directory: Path, model: Model) -> StatsmodelsPredictor:
    return StatsmodelsPredictor(load_from_directory(directory, model))
