"""Custom Python models: `PythonModel`, its context, and models defined in a code file.

A `PythonModel` is pickled with cloudpickle (`python_model.pkl`); a model from code is a
Python file that builds the model and calls `heron.models.set_model(model)`, so nothing is
pickled (what agents that hold clients or connections need). Either way, loading runs the
model's code: only load models you trust.
"""

from __future__ import annotations

import inspect
import os
import runpy
import shutil
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from heron.errors import InvalidParameter
from heron.models import environment, model_dir, pickles
from heron.models.mlmodel import Model

PYTHON_MODEL_FILE = "python_model.pkl"
ARTIFACTS_DIR = "artifacts"
LOADER_MODULE = "mlflow.pyfunc.model"  # MLflow compat: MLflow loads these models too
CODE_LOADER_MODULE = "mlflow.pyfunc.loaders.code_model"


@dataclass(frozen=True, slots=True)
class PythonModelContext:
    """What `load_context` and `predict` get: the local paths of the model's artifacts
    (by the names given at save time) and the model's configuration."""

    artifacts: dict[str, str] = field(default_factory=dict)
    model_config: dict[str, Any] = field(default_factory=dict)


class PythonModel:
    """Subclass this for a model of your own; override `predict` (and `load_context`).

    Example:
        >>> class AddN(PythonModel):
        ...     def load_context(self, context):
        ...         self.n = float(open(context.artifacts["n"]).read())
        ...     def predict(self, context, model_input, params=None):
        ...         return model_input + self.n * (params or {}).get("scale", 1)
    """

    def load_context(self, context: PythonModelContext) -> None:
        """Called once when the model is loaded: read artifacts, open clients."""

    def predict(self, context: PythonModelContext, model_input: Any, params: Any = None) -> Any:
        raise NotImplementedError("A PythonModel must implement predict")

    def predict_stream(
        self, context: PythonModelContext, model_input: Any, params: Any = None
    ) -> Iterator[Any]:
        """Override to answer in chunks (a generator); the scoring server sends each one as
        a server-sent event when a request asks for `"stream": true`."""
        raise NotImplementedError("This model does not stream: it has no predict_stream")


_model_from_code = threading.local()


def set_model(model: Any) -> None:
    """Called by a model-from-code file to name the model it defines: a `PythonModel`, or a
    function `predict(model_input)`."""
    if not isinstance(model, PythonModel) and not callable(model):
        raise InvalidParameter(
            f"set_model takes a PythonModel or a function, got {type(model).__name__}"
        )
    _model_from_code.value = model


def run_model_code(path: Path, config: Mapping[str, Any] | None) -> Any:
    """Runs a model-from-code file and returns the model it passed to `set_model`."""
    _model_from_code.value = None
    _model_from_code.config = dict(config or {})
    try:
        runpy.run_path(str(path), run_name="__heron_model__")
        model = _model_from_code.value
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "mlflow":
            raise InvalidParameter(
                f"The model code {path.name!r} imports mlflow (for mlflow.models.set_model): "
                "Heron runs model code that calls heron.models.set_model instead"
            ) from None
        raise
    finally:
        _model_from_code.value = None
    if model is None:
        raise InvalidParameter(
            f"The model code {path.name!r} did not call heron.models.set_model(model)"
        )
    return model


def model_config() -> dict[str, Any]:
    """In a model-from-code file while it is loaded: the `model_config` it was saved with."""
    return dict(getattr(_model_from_code, "config", {}) or {})


class LoadedPythonModel:
    """A PythonModel (or a model-from-code function) ready to predict: its context bound and
    its `predict` called the way it was written (with or without `context` and `params`)."""

    def __init__(self, model: Any, context: PythonModelContext) -> None:
        self.python_model = model
        self.context = context
        self._predict = _bind_predict(model, context)

    def predict(self, data: Any, params: dict[str, Any] | None = None) -> Any:
        return self._predict(data, params)

    @property
    def streams(self) -> bool:
        """Whether the model overrides `predict_stream`."""
        method = getattr(type(self.python_model), "predict_stream", None)
        return method is not None and method is not PythonModel.predict_stream

    def predict_stream(self, data: Any, params: dict[str, Any] | None = None) -> Iterator[Any]:
        if not self.streams:
            raise InvalidParameter("This model does not stream: it has no predict_stream")
        stream: Iterator[Any] = _bind_predict(self.python_model, self.context, "predict_stream")(
            data, params
        )
        return stream


def _bind_predict(
    model: Any, context: PythonModelContext, name: str = "predict"
) -> Callable[[Any, Any], Any]:
    if isinstance(model, PythonModel) or hasattr(model, "load_context"):
        function = getattr(type(model), name)
        # MLflow wraps predict to check type hints; call the user's own function.
        function = getattr(function, "__wrapped__", function)
        method = function.__get__(model)
    else:
        method = model
    names = list(inspect.signature(method).parameters)
    with_context = bool(names) and names[0] == "context"
    with_params = "params" in names
    if with_context and with_params:
        return lambda data, params: method(context, data, params=params)
    if with_context:
        return lambda data, params: method(context, data)
    if with_params:
        return lambda data, params: method(data, params=params)
    return lambda data, params: method(data)


def save_python_model(
    directory: Path,
    python_model: PythonModel | str | os.PathLike[str],
    artifacts: Mapping[str, str] | None,
    model_config: Mapping[str, Any] | None,
    resolve_artifact: Callable[[str], Path],
) -> tuple[dict[str, Any], list[str], LoadedPythonModel]:
    """Writes the model (pickle or code file) and its artifacts into `directory`.

    Returns the python_function flavor's own entries, the requirements inferred from what
    the model imports, and the model loaded from the saved files (to infer a signature)."""
    conf: dict[str, Any] = {"streamable": False}
    saved_artifacts: dict[str, dict[str, str]] = {}
    local_artifacts: dict[str, str] = {}
    for name, uri in (artifacts or {}).items():
        source = resolve_artifact(uri)
        relative = f"{ARTIFACTS_DIR}/{source.name}"
        model_dir.copy_artifact(source, directory / relative)
        saved_artifacts[name] = {"path": relative, "uri": str(uri)}
        local_artifacts[name] = str(directory / relative)
    if saved_artifacts:
        conf["artifacts"] = saved_artifacts
    if model_config:
        conf["config"] = dict(model_config)
    conf["cloudpickle_version"] = environment.installed_version("cloudpickle")
    context = PythonModelContext(local_artifacts, dict(model_config or {}))
    if isinstance(python_model, str | os.PathLike):
        source = Path(python_model)
        if source.suffix != ".py" or not source.is_file():
            raise InvalidParameter(
                f"python_model {str(python_model)!r} must be a PythonModel or a .py file"
            )
        shutil.copy2(source, directory / source.name)
        conf.update(loader_module=CODE_LOADER_MODULE, model_code_path=str(source))
        modules = environment.modules_in_code(source)
        model = run_model_code(directory / source.name, model_config)
    elif isinstance(python_model, PythonModel):
        data = pickles.dump(python_model, directory / PYTHON_MODEL_FILE)
        conf.update(loader_module=LOADER_MODULE, python_model=PYTHON_MODEL_FILE)
        modules = environment.modules_in_pickle(data) | {"cloudpickle"}
        model = python_model
    else:
        raise InvalidParameter(
            f"python_model must be a PythonModel or the path of a .py file, "
            f"got {type(python_model).__name__}"
        )
    if hasattr(model, "load_context"):
        model.load_context(context)
    return conf, environment.requirements_for_modules(modules), LoadedPythonModel(model, context)


def load_python_model(directory: Path, model: Model) -> LoadedPythonModel:
    """The custom model saved in `directory`, its `load_context` called."""
    conf = model.pyfunc
    artifacts = {
        name: str(model_dir.inside(directory, entry["path"], f"artifact {name!r}"))
        for name, entry in (conf.get("artifacts") or {}).items()
    }
    context = PythonModelContext(artifacts, dict(conf.get("config") or {}))
    model_dir.add_code_to_path(directory, conf.get("code"))
    if conf.get("model_code_path"):
        code = Path(str(conf["model_code_path"])).name  # saved beside MLmodel under its name
        python_model = run_model_code(
            model_dir.inside(directory, code, "code file"), context.model_config
        )
    else:
        pickled = str(conf.get("python_model", PYTHON_MODEL_FILE))
        python_model = pickles.load(model_dir.inside(directory, pickled, "python_model"))
    if hasattr(python_model, "load_context"):
        python_model.load_context(context)
    return LoadedPythonModel(python_model, context)
