"""The LightGBM flavor: a Booster (LightGBM's text format) or an LGBM scikit-learn estimator
(cloudpickle), in MLflow's layout (flavor `lightgbm`, loader_module `mlflow.lightgbm`).
Loading a pickled estimator runs code from the file: only load models you trust."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from heron.errors import InvalidParameter
from heron.models import environment, logged, model_dir, pickles, saving
from heron.models import uri as model_uri
from heron.models.info import ModelInfo
from heron.models.mlmodel import Model

FLAVOR = saving.Flavor(
    name="lightgbm",
    loader_module="mlflow.lightgbm",
    module="lightgbm",
    version_key="lgb_version",
)


def save_model(
    lgb_model: Any,
    path: str | os.PathLike[str],
    *,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    mlflow_model: Model | None = None,
    **options: Any,
) -> Model:
    """Saves a `lightgbm.Booster` or an `LGBMClassifier`/`LGBMRegressor`/... to a new directory.

    `options`: `signature`, `input_example`, `pip_requirements`, `extra_pip_requirements`,
    `metadata`.
    """
    import lightgbm

    booster = isinstance(lgb_model, lightgbm.Booster)
    if not booster and not isinstance(lgb_model, lightgbm.LGBMModel):
        raise InvalidParameter(f"Not a LightGBM model: {type(lgb_model).__name__}")
    file = "model.lgb" if booster else "model.pkl"

    def write(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        if booster:
            lgb_model.save_model(str(directory / file))
        else:
            pickles.dump(lgb_model, directory / file)
        cls = type(lgb_model)
        return {"data": file, "model_class": f"{cls.__module__}.{cls.__name__}"}, {"data": file}

    return saving.save_flavor(
        FLAVOR,
        path,
        write,
        LightgbmPredictor(lgb_model).predict,
        code_paths=code_paths,
        mlflow_model=mlflow_model,
        extra_requirements=[] if booster else [environment.pinned("cloudpickle")],
        options=options,
    )


def log_model(lgb_model: Any, name: str | None = None, **options: Any) -> ModelInfo:
    """Logs a LightGBM model as a LoggedModel."""
    return logged.log_flavor(save_model, lgb_model, name, options)


def load_from_directory(directory: Path, model: Model | None = None) -> Any:
    import lightgbm

    conf = FLAVOR.conf(directory, model)
    file = model_dir.inside(directory, str(conf.get("data", "model.lgb")), "model file")
    if file.suffix == ".pkl":
        return pickles.load(file)
    return lightgbm.Booster(model_file=str(file))


def load_model(uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """The LightGBM model at a path or model URI."""
    return load_from_directory(model_uri.download_model(os.fspath(uri), dst_path))


class LightgbmPredictor:
    def __init__(self, raw_model: Any) -> None:
        self.raw_model = raw_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self.raw_model.predict(data)


def load_pyfunc(directory: Path, model: Model) -> LightgbmPredictor:
    return LightgbmPredictor(load_from_directory(directory, model))
