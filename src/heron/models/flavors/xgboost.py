"""The XGBoost flavor: a Booster or an XGBoost scikit-learn estimator, in XGBoost's own format.

MLflow's layout (`model.xgb`, flavor `xgboost` with `model_class`, loader_module
`mlflow.xgboost`), so models move both ways. Install `heron[xgboost]` (the CPU-only
`xgboost-cpu` wheel).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from heron.errors import InvalidParameter
from heron.models import logged, model_dir, saving
from heron.models import uri as model_uri
from heron.models.info import ModelInfo
from heron.models.mlmodel import Model

FLAVOR = saving.Flavor(
    name="xgboost",
    loader_module="mlflow.xgboost",
    module="xgboost",
    version_key="xgb_version",
)
MODEL_FORMATS = ("ubj", "json", "xgb")


def save_model(
    xgb_model: Any,
    path: str | os.PathLike[str],
    *,
    model_format: str = "ubj",
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    mlflow_model: Model | None = None,
    **options: Any,
) -> Model:
    """Saves a Booster or an XGBoost estimator (`XGBClassifier`, ...) to a new directory.

    `options`: `signature`, `input_example`, `pip_requirements`, `extra_pip_requirements`,
    `metadata`.
    """
    import xgboost

    if model_format not in MODEL_FORMATS:
        raise InvalidParameter(f"model_format must be one of {list(MODEL_FORMATS)}")
    if not isinstance(xgb_model, xgboost.Booster | xgboost.XGBModel):
        raise InvalidParameter(f"Not an XGBoost model: {type(xgb_model).__name__}")
    file = f"model.{model_format}"

    def write(directory: Path) -> tuple[dict[str, Any], dict[str, Any]]:
        xgb_model.save_model(str(directory / file))
        cls = type(xgb_model)
        conf = {"data": file, "model_class": f"{cls.__module__}.{cls.__name__}"}
        return {**conf, "model_format": model_format}, {"data": file}

    predictor = XgboostPredictor(xgb_model)
    return saving.save_flavor(
        FLAVOR,
        path,
        write,
        predictor.predict,
        code_paths=code_paths,
        mlflow_model=mlflow_model,
        options=options,
    )


def log_model(xgb_model: Any, name: str | None = None, **options: Any) -> ModelInfo:
    """Logs an XGBoost model as a LoggedModel (see `heron.sklearn.log_model` for the options
    log_model takes besides save_model's)."""
    return logged.log_flavor(save_model, xgb_model, name, options)


def load_from_directory(directory: Path, model: Model | None = None) -> Any:
    conf = FLAVOR.conf(directory, model)
    module, _, name = str(conf.get("model_class", "xgboost.core.Booster")).rpartition(".")
    if not module.startswith("xgboost"):
        raise InvalidParameter(f"model_class {module}.{name} is not an XGBoost class")
    instance = getattr(importlib.import_module(module), name)()
    instance.load_model(str(model_dir.inside(directory, str(conf["data"]), "model file")))
    return instance


def load_model(uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """The XGBoost model at a path or model URI."""
    return load_from_directory(model_uri.download_model(os.fspath(uri), dst_path))


class XgboostPredictor:
    def __init__(self, raw_model: Any) -> None:
        self.raw_model = raw_model

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        import xgboost

        if isinstance(self.raw_model, xgboost.Booster):
            return self.raw_model.predict(xgboost.DMatrix(data))
        return self.raw_model.predict(data)


def load_pyfunc(directory: Path, model: Model) -> XgboostPredictor:
    return XgboostPredictor(load_from_directory(directory, model))
