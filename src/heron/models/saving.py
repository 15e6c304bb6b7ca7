"""What every flavor's `save_model` does after writing its own files.

The signature (given, or inferred from the input example and the model's prediction for
it), the input example files, the environment files and the MLmodel file itself.
"""

from __future__ import annotations

import importlib
import os
import platform
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heron.errors import InvalidParameter
from heron.models import environment, input_example
from heron.models.enforcement import enforce_input
from heron.models.mlmodel import MLMODEL_FILE, PYFUNC_FLAVOR, Model, directory_size
from heron.models.schema import Schema
from heron.models.signature import ModelSignature, infer_param_schema, infer_schema

Requirements = Sequence[str] | str | os.PathLike[str] | None


@dataclass(kw_only=True)
class SaveOptions:
    """The arguments every flavor's save_model takes besides the model and the path."""

    signature: ModelSignature | None = None
    input_example: Any = None
    pip_requirements: Requirements = None
    extra_pip_requirements: Requirements = None
    metadata: Mapping[str, Any] | None = None
    inferred_requirements: list[str] = field(default_factory=list)


def pyfunc_conf(loader_module: str, code: str | None, **params: Any) -> dict[str, Any]:
    """The `python_function` flavor entry, with the env files and the Python version."""
    return {
        "loader_module": loader_module,
        "python_version": platform.python_version(),
        "env": dict(environment.ENV_FILES),
        **({"code": code} if code is not None else {}),
        **params,
    }


def finish(
    directory: Path,
    model: Model,
    options: SaveOptions,
    predict: Callable[[Any, dict[str, Any] | None], Any] | None,
) -> Model:
    """Writes the example, the signature, the environment and MLmodel into `directory`.

    `predict(input, params)` runs the model on the input example to infer the output schema
    when no signature is given; a failure there leaves the outputs out, with a warning.
    """
    signature = options.signature
    if options.input_example is not None:
        model.saved_input_example_info = input_example.save_example(
            directory, options.input_example
        )
        if signature is None:
            signature = infer_from_example(options.input_example, predict)
    model.signature = signature
    if options.metadata is not None:
        model.metadata = dict(options.metadata)
    requirements = environment.resolve_requirements(
        options.inferred_requirements, options.pip_requirements, options.extra_pip_requirements
    )
    environment.write_environment(directory, requirements)
    model.save(directory / MLMODEL_FILE)
    model.model_size_bytes = directory_size(directory)
    model.save(directory / MLMODEL_FILE)
    return model


def infer_from_example(
    example: Any, predict: Callable[[Any, dict[str, Any] | None], Any] | None
) -> ModelSignature | None:
    data, params = input_example.split_example(example)
    try:
        inputs = infer_schema(data)
    except Exception as exc:
        warnings.warn(f"No signature inferred from the input example: {exc}", stacklevel=3)
        return None
    param_schema = infer_param_schema(params) if params else None
    outputs = None
    if predict is not None:
        try:
            # The model sees the example as it will see inputs when loaded: enforced.
            prediction = predict(enforce_input(data, inputs), params)
        except Exception as exc:
            warnings.warn(
                f"The model failed to predict on the input example, so the signature has no "
                f"outputs: {type(exc).__name__}: {exc}",
                stacklevel=3,
            )
        else:
            outputs = output_schema(prediction, inputs)
    return ModelSignature(inputs, outputs, param_schema)


def output_schema(prediction: Any, inputs: Schema) -> Schema | None:
    """The schema of a prediction; a 1-D array for a column-based input is one column."""
    import numpy as np

    try:
        schema = infer_schema(prediction)
    except Exception:
        return None
    if (
        isinstance(prediction, np.ndarray)
        and prediction.ndim == 1
        and not inputs.is_tensor_spec()
        and schema.is_tensor_spec()
    ):
        import pandas as pd

        return infer_schema(pd.Series(prediction)) if len(prediction) else None
    return schema


def model_for_save(mlflow_model: Model | None) -> Model:
    """The Model to fill in: the one given (e.g. with run and model ids set), or a new one."""
    return mlflow_model if mlflow_model is not None else Model()


@dataclass(frozen=True, kw_only=True)
class Flavor:
    """What a simple flavor module declares: its name, MLflow's loader module for it, and
    the framework's module, whose version it records (under `version_key`) and pins."""

    name: str
    loader_module: str
    module: str
    version_key: str

    def version(self) -> str:
        return str(importlib.import_module(self.module).__version__)

    def conf(self, directory: Path, model: Model | None = None) -> dict[str, Any]:
        """The model's entry for this flavor (code put on sys.path), with a warning when it
        was saved with another version of the framework than the one installed."""
        from heron.models import model_dir

        model = model or Model.load(directory)
        conf = model_dir.flavor_conf(directory, model, self.name)
        environment.warn_on_version_mismatch(
            self.module, conf.get(self.version_key), self.version()
        )
        return conf


def save_flavor(
    flavor: Flavor,
    path: str | os.PathLike[str],
    write: Callable[[Path], tuple[dict[str, Any], dict[str, Any]]],
    predict: Callable[[Any, dict[str, Any] | None], Any] | None,
    *,
    code_paths: Sequence[str | os.PathLike[str]] | None,
    mlflow_model: Model | None,
    extra_requirements: Sequence[str] = (),
    options: Mapping[str, Any],
) -> Model:
    """Saves a model of `flavor` to a new directory: `write(directory)` writes the model's
    files and returns (the flavor's entries, the python_function entries); the rest (code
    paths, signature, example, environment, MLmodel) is done here.

    `options` are SaveOptions' fields (`signature`, `input_example`, `pip_requirements`,
    `extra_pip_requirements`, `metadata`)."""
    from heron.models import model_dir

    unknown = set(options) - _OPTION_NAMES
    if unknown:
        raise InvalidParameter(f"Unknown save_model options {sorted(unknown)}")
    directory = model_dir.new_directory(path)
    code = model_dir.copy_code_paths(directory, code_paths)
    flavor_conf, pyfunc_entries = write(directory)
    model = model_for_save(mlflow_model)
    model.add_flavor(PYFUNC_FLAVOR, **pyfunc_conf(flavor.loader_module, code, **pyfunc_entries))
    model.add_flavor(
        flavor.name,
        **{flavor.version_key: flavor.version()},
        **flavor_conf,
        code=code,
    )
    save_options = SaveOptions(
        **options,
        inferred_requirements=[
            *environment.requirements_for_modules({flavor.module}),
            *extra_requirements,
        ],
    )
    return finish(directory, model, save_options, predict)


def requirements_of(*modules: str) -> list[str]:
    """Pinned requirements for the distributions that provide `modules`."""
    return environment.requirements_for_modules(modules)


_OPTION_NAMES = {
    "signature",
    "input_example",
    "pip_requirements",
    "extra_pip_requirements",
    "metadata",
}
