"""The scikit-learn flavor: estimators and pipelines saved with cloudpickle (or skops).

The files are MLflow's (`model.pkl`, flavor `sklearn`, loader_module `mlflow.sklearn`), so
MLflow loads a model Heron saved and Heron loads one MLflow saved, skops format included.
Loading unpickles the model, which runs code from the file: only load models you trust.
"""

from __future__ import annotations

import importlib.abc
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from heron.errors import InvalidParameter
from heron.models import environment, logged, model_dir, pickles, saving
from heron.models import uri as model_uri_module
from heron.models.info import ModelInfo
from heron.models.mlmodel import PYFUNC_FLAVOR, Model
from heron.models.signature import ModelSignature

FLAVOR_NAME = "sklearn"
LOADER_MODULE = "mlflow.sklearn"  # MLflow compat: MLflow's pyfunc loads Heron's models too
PICKLE_FILE = "model.pkl"
SKOPS_FILE = "model.skops"
FORMATS = ("cloudpickle", "pickle", "skops")


def save_model(
    sk_model: Any,
    path: str | os.PathLike[str],
    *,
    serialization_format: str = "cloudpickle",
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: saving.Requirements = None,
    extra_pip_requirements: saving.Requirements = None,
    metadata: Mapping[str, Any] | None = None,
    mlflow_model: Model | None = None,
    pyfunc_predict_fn: str = "predict",
    skops_trusted_types: Sequence[str] | None = None,
) -> Model:
    """Saves a scikit-learn model to a new directory `path` in the MLmodel format.

    Without a `signature`, one is inferred from `input_example` and the model's prediction
    for it. Requirements are scikit-learn, the serializer, and the packages the pickled model
    refers to, each pinned to the installed version.

    Raises:
        AlreadyExists: `path` exists and is not empty.
        InvalidParameter: an unknown `serialization_format` or `pyfunc_predict_fn`.
    """
    if serialization_format not in FORMATS:
        raise InvalidParameter(
            f"serialization_format must be one of {list(FORMATS)}, got {serialization_format!r}"
        )
    if not callable(getattr(sk_model, pyfunc_predict_fn, None)):
        raise InvalidParameter(f"The model has no method {pyfunc_predict_fn!r} to predict with")
    directory = model_dir.new_directory(path)
    code = model_dir.copy_code_paths(directory, code_paths)
    if serialization_format == "skops":
        import skops.io

        file = SKOPS_FILE
        skops.io.dump(sk_model, directory / file)
        requirements = [environment.pinned("skops")]
        modules: set[str] = set()
    else:
        file = PICKLE_FILE
        data = pickles.dump(sk_model, directory / file)
        requirements = [environment.pinned("cloudpickle")]
        modules = environment.modules_in_pickle(data)
    sklearn_version = environment.installed_version("scikit-learn")
    model = saving.model_for_save(mlflow_model)
    model.add_flavor(
        PYFUNC_FLAVOR,
        **saving.pyfunc_conf(LOADER_MODULE, code, model_path=file, predict_fn=pyfunc_predict_fn),
    )
    flavor: dict[str, Any] = {
        "pickled_model": file,
        "sklearn_version": sklearn_version,
        "serialization_format": serialization_format,
        "code": code,
        "skops_trusted_types": list(skops_trusted_types) if skops_trusted_types else None,
    }
    model.add_flavor(FLAVOR_NAME, **flavor)
    options = saving.SaveOptions(
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        inferred_requirements=[
            environment.pinned("scikit-learn"),
            *requirements,
            *environment.requirements_for_modules(modules),
        ],
    )
    predict = getattr(sk_model, pyfunc_predict_fn)
    return saving.finish(directory, model, options, lambda data, _params: predict(data))


def log_model(sk_model: Any, name: str | None = None, **options: Any) -> ModelInfo:
    """Logs a scikit-learn model as a LoggedModel of the active run (MLflow 3 semantics).

    Args:
        options: log_model's own (`registered_model_name`, `params`, `tags`, `model_type`,
            `step`, `model_id`, `artifact_path`; see `heron.models.logged.log_model`) and
            save_model's (`input_example`, `signature`, `pip_requirements`,
            `extra_pip_requirements`, `code_paths`, `serialization_format`, ...).

    Returns:
        The ModelInfo; `model_uri` is `models:/<model_id>`, and `registered_model_version`
        is set when `registered_model_name` is given.

    Example:
        >>> with heron.start_run():
        ...     info = heron.sklearn.log_model(clf, name="clf", input_example=X.head(3))
        >>> heron.pyfunc.load_model(info.model_uri).predict(X)
    """
    return logged.log_flavor(save_model, sk_model, name, options)


def load_from_directory(directory: Path, model: Model | None = None) -> Any:
    """The estimator saved in a local model directory."""
    model = model or Model.load(directory)
    conf = model.flavors.get(FLAVOR_NAME)
    if conf is None:
        raise InvalidParameter(
            f"This model has no {FLAVOR_NAME} flavor (it has {sorted(model.flavors)})"
        )
    environment.warn_on_version_mismatch(
        "scikit-learn", conf.get("sklearn_version"), environment.installed_version("scikit-learn")
    )
    model_dir.add_code_to_path(directory, conf.get("code"))
    file = model_dir.inside(directory, str(conf.get("pickled_model", PICKLE_FILE)), "model file")
    serialization = conf.get("serialization_format", "pickle")
    if serialization == "skops":
        skops_io = _import_skops_io()
        return skops_io.load(file, trusted=conf.get("skops_trusted_types"))
    if serialization not in FORMATS:
        raise InvalidParameter(f"Unknown sklearn serialization_format {serialization!r}")
    return pickles.load(file)


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> Any:
    """The scikit-learn estimator at a path or model URI. Loading unpickles it, which runs
    code from the file: only load models you trust.

    Raises:
        NotFound: no model is there.
        InvalidParameter: the model has no sklearn flavor.
    """
    return load_from_directory(model_uri_module.download_model(os.fspath(model_uri), dst_path))


class SklearnPredictor:
    """The python_function view of an estimator: `predict_fn` on the input."""

    def __init__(self, raw_model: Any, predict_fn: str) -> None:
        self.raw_model = raw_model
        method = getattr(raw_model, predict_fn, None)
        if method is None:
            raise InvalidParameter(f"The sklearn model has no method {predict_fn!r}")
        self._predict = method

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._predict(data)


def load_pyfunc(directory: Path, model: Model) -> SklearnPredictor:
    return SklearnPredictor(
        load_from_directory(directory, model), str(model.pyfunc.get("predict_fn", "predict"))
    )


class _WithoutTorch(importlib.abc.MetaPathFinder):
    """Refuses `import torch` while skops.io is imported (see `_import_skops_io`)."""

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == "torch" or fullname.startswith("torch."):
            raise ImportError("torch is not needed to list scikit-learn's estimators")


def _import_skops_io() -> Any:
    """skops.io, imported without torch when torch is not loaded yet.

    Importing skops.io lists scikit-learn's estimators (`sklearn.utils.all_estimators`),
    which imports every scikit-learn package, among them array_api_compat's torch adapter:
    where torch is installed that alone took 2.7 s and some 250 MiB of a server's memory,
    for models that never use torch. The walk skips a package that fails to import."""
    guard = None if "torch" in sys.modules else _WithoutTorch()
    if guard is not None:
        sys.meta_path.insert(0, guard)
    try:
        import skops.io
    except ImportError:
        raise InvalidParameter(
            "This model is saved in the skops format: pip install skops (or heron[sklearn])"
        ) from None
    finally:
        if guard is not None:
            sys.meta_path.remove(guard)
    return skops.io
