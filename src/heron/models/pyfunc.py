"""`python_function`: save a custom model, load any model behind one `predict`.

Loading a model runs its code (its pickles, its code files) by design: that is the model
owner's trust decision, so only load models from sources you trust.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from heron.errors import InvalidParameter, NotFound
from heron.models import logged, saving, uri
from heron.models.info import ModelInfo
from heron.models.mlmodel import PYFUNC_FLAVOR, Model
from heron.models.pyfunc_model import PyFuncModel, load_pyfunc
from heron.models.python_model import PythonModel, save_python_model
from heron.models.signature import ModelSignature


def save_model(
    path: str | os.PathLike[str],
    python_model: PythonModel | str | os.PathLike[str],
    *,
    artifacts: Mapping[str, str] | None = None,
    code_paths: Sequence[str | os.PathLike[str]] | None = None,
    signature: ModelSignature | None = None,
    input_example: Any = None,
    pip_requirements: saving.Requirements = None,
    extra_pip_requirements: saving.Requirements = None,
    metadata: Mapping[str, Any] | None = None,
    model_config: Mapping[str, Any] | None = None,
    mlflow_model: Model | None = None,
) -> Model:
    """Saves a custom model to a new directory `path`.

    Args:
        python_model: a `PythonModel` (pickled with cloudpickle), or the path of a Python
            file that builds the model and calls `heron.models.set_model(model)` (a model
            from code: nothing is pickled).
        artifacts: files or directories the model needs, by name: local paths or artifact
            URIs, copied into the model; `context.artifacts[name]` is their local path.
        code_paths: local modules and packages the model imports, copied into the model and
            put on `sys.path` when it loads.
        model_config: a dict the model reads as `context.model_config` (or, in a model from
            code, `heron.models.model_config()`).

    Without a `signature`, one is inferred from `input_example` (optionally
    `(input, params)`) and the model's prediction for it.

    Raises:
        AlreadyExists: `path` exists and is not empty.
        InvalidParameter: `python_model` is neither a PythonModel nor a .py file.
    """
    from heron.models import model_dir

    directory = model_dir.new_directory(path)
    code = model_dir.copy_code_paths(directory, code_paths)
    model_dir.add_code_to_path(directory, code)
    conf, requirements, loaded = save_python_model(
        directory, python_model, artifacts, model_config, _resolve_artifact
    )
    model = saving.model_for_save(mlflow_model)
    loader = conf.pop("loader_module")
    model.add_flavor(PYFUNC_FLAVOR, **saving.pyfunc_conf(loader, code, **conf))
    options = saving.SaveOptions(
        signature=signature,
        input_example=input_example,
        pip_requirements=pip_requirements,
        extra_pip_requirements=extra_pip_requirements,
        metadata=metadata,
        inferred_requirements=requirements,
    )
    return saving.finish(directory, model, options, loaded.predict)


def log_model(
    name: str | None = None,
    python_model: PythonModel | str | os.PathLike[str] | None = None,
    **options: Any,
) -> ModelInfo:
    """Logs a custom model (a PythonModel, or a model-from-code file) as a LoggedModel of
    the active run.

    Args:
        options: log_model's own (`registered_model_name`, `params`, `tags`, `model_type`,
            `step`, `model_id`, `artifact_path`) and save_model's (`artifacts`, `code_paths`,
            `input_example`, `signature`, `model_config`, `pip_requirements`, ...).

    Example:
        >>> info = heron.pyfunc.log_model(name="agent", python_model="agent.py",
        ...                               input_example={"question": "hi"})
    """
    if python_model is None:
        raise InvalidParameter("log_model needs a python_model (a PythonModel or a .py file)")
    return logged.log_flavor(_save_custom, python_model, name, options)


def _save_custom(python_model: Any, path: Path, **options: Any) -> Model:
    return save_model(path, python_model, **options)


def _resolve_artifact(artifact_uri: str) -> Path:
    local = uri.local_path(str(artifact_uri))
    if local is not None:
        if not local.exists():
            raise NotFound(f"Artifact {artifact_uri!r} does not exist")
        return local.resolve()
    from heron.client.fluent.artifacts import download_artifacts

    return Path(download_artifacts(str(artifact_uri), dst_path=tempfile.mkdtemp()))


def load_model(model_uri: str | os.PathLike[str], dst_path: str | None = None) -> PyFuncModel:
    """Loads any model with a python_function flavor, from a path or a model URI.

    Loading runs the model's code: only load models you trust. A warning says when the model
    was saved with another Python or library version than the one running.

    Example:
        >>> model = heron.pyfunc.load_model("models:/m-0123...")
        >>> model.predict(pd.DataFrame({"x": [1.0]}), params={"temperature": 0.1})

    Raises:
        NotFound: no model is at `model_uri`.
        InvalidParameter: the model has no python_function flavor, or one Heron cannot load.
    """
    return load_pyfunc(uri.download_model(os.fspath(model_uri), dst_path))
