"""Custom Python models: artifacts, params, code paths, models from code."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import heron.pyfunc
from heron.errors import InvalidParameter, NotFound
from heron.models.mlmodel import Model


class Scale(heron.pyfunc.PythonModel):
    def load_context(self, context: heron.pyfunc.PythonModelContext) -> None:
        self.factor = float(Path(context.artifacts["factor"]).read_text())

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        return model_input * self.factor * (params or {}).get("k", 1)


@pytest.fixture
def factor_file(tmp_path: Path) -> Path:
    path = tmp_path / "factor.txt"
    path.write_text("2")
    return path


def test_custom_model_with_artifacts_and_params(tmp_path: Path, factor_file: Path) -> None:
    example = (pd.DataFrame({"a": [1.0, 2.0]}), {"k": 3})
    heron.pyfunc.save_model(
        tmp_path / "m",
        python_model=Scale(),
        artifacts={"factor": str(factor_file)},
        input_example=example,
    )
    model = heron.pyfunc.load_model(str(tmp_path / "m"))
    data = pd.DataFrame({"a": [1.0]})
    assert model.predict(data)["a"].tolist() == [6.0]  # the default k=3 from the example
    assert model.predict(data, params={"k": 10})["a"].tolist() == [20.0]
    with pytest.raises(InvalidParameter, match="'k' must be a long"):
        model.predict(data, params={"k": "x"})
    assert isinstance(model.unwrap_python_model(), Scale)
    conf = Model.load(tmp_path / "m").pyfunc
    assert conf["loader_module"] == "mlflow.pyfunc.model"
    assert conf["artifacts"]["factor"]["path"] == "artifacts/factor.txt"
    assert (tmp_path / "m" / "artifacts" / "factor.txt").read_text() == "2"
    saved = json.loads((tmp_path / "m" / "input_example.json").read_text())
    assert saved == {"inputs": {"columns": ["a"], "data": [[1.0], [2.0]]}, "params": {"k": 3}}


def test_input_example_round_trips(tmp_path: Path, factor_file: Path) -> None:
    from heron.models.input_example import load_example

    heron.pyfunc.save_model(
        tmp_path / "m",
        python_model=Scale(),
        artifacts={"factor": str(factor_file)},
        input_example=np.ones((2, 3), dtype=np.float32),
    )
    model = Model.load(tmp_path / "m")
    example = load_example(tmp_path / "m", model.saved_input_example_info)
    np.testing.assert_array_equal(example, np.ones((2, 3)))
    np.testing.assert_array_equal(model.load_input_example(tmp_path / "m"), np.ones((2, 3)))
    assert model.signature is not None
    assert model.signature.inputs is not None
    assert model.signature.inputs.to_dict() == [
        {"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}
    ]


class NoContext(heron.pyfunc.PythonModel):
    def predict(self, model_input: Any) -> Any:  # type: ignore[override]
        return [len(model_input)]


def test_predict_without_context_or_params(tmp_path: Path) -> None:
    heron.pyfunc.save_model(tmp_path / "m", python_model=NoContext())
    assert heron.pyfunc.load_model(str(tmp_path / "m")).predict(["a", "b"]) == [2]


def test_code_paths_are_importable_when_loading(tmp_path: Path) -> None:
    package = tmp_path / "src" / "helper_pkg_for_heron"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("def double(x):\n    return x * 2\n")
    code = tmp_path / "agent.py"
    code.write_text(
        textwrap.dedent(
            """
            import heron.models
            from helper_pkg_for_heron import double

            class Agent:
                def predict(self, model_input, params=None):
                    return [double(v) for v in model_input["q"]]

            heron.models.set_model(Agent().predict)
            """
        )
    )
    heron.pyfunc.save_model(
        tmp_path / "m",
        python_model=str(code),
        code_paths=[str(package)],
        input_example={"q": 1},
    )
    assert (tmp_path / "m" / "code" / "helper_pkg_for_heron" / "__init__.py").is_file()
    conf = Model.load(tmp_path / "m").pyfunc
    assert conf["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    assert conf["code"] == "code"
    model = heron.pyfunc.load_model(str(tmp_path / "m"))
    assert model.predict({"q": 5}) == [10]


def test_model_from_code_is_not_pickled_and_reads_its_config(tmp_path: Path) -> None:
    code = tmp_path / "chain.py"
    code.write_text(
        textwrap.dedent(
            """
            import heron.models

            class Chain(heron.models.python_model.PythonModel):
                def __init__(self):
                    self.prefix = heron.models.model_config()["prefix"]

                def predict(self, context, model_input, params=None):
                    return [self.prefix + q for q in model_input["question"]]

            heron.models.set_model(Chain())
            """
        )
    )
    heron.pyfunc.save_model(
        tmp_path / "m",
        python_model=str(code),
        model_config={"prefix": "A: "},
        input_example={"question": "why?"},
    )
    assert not (tmp_path / "m" / "python_model.pkl").exists()
    assert (tmp_path / "m" / "chain.py").is_file()
    data = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert data["flavors"]["python_function"]["config"] == {"prefix": "A: "}
    model = heron.pyfunc.load_model(str(tmp_path / "m"))
    assert model.predict({"question": "why?"}) == ["A: why?"]
    with pytest.raises(InvalidParameter, match="'question'"):
        model.predict({"other": "x"})


def test_code_file_that_never_calls_set_model(tmp_path: Path) -> None:
    code = tmp_path / "nothing.py"
    code.write_text("x = 1\n")
    with pytest.raises(InvalidParameter, match="set_model"):
        heron.pyfunc.save_model(tmp_path / "m", python_model=str(code))


def test_bad_python_model_and_missing_artifact(tmp_path: Path) -> None:
    with pytest.raises(InvalidParameter, match="PythonModel"):
        heron.pyfunc.save_model(tmp_path / "a", python_model=42)  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="nope"):
        heron.pyfunc.save_model(
            tmp_path / "b", python_model=Scale(), artifacts={"factor": str(tmp_path / "nope")}
        )


def test_prediction_failure_on_the_example_leaves_outputs_out(
    tmp_path: Path, factor_file: Path
) -> None:
    with pytest.warns(UserWarning, match="failed to predict"):
        heron.pyfunc.save_model(
            tmp_path / "m",
            python_model=Scale(),
            artifacts={"factor": str(factor_file)},
            input_example={"text": "not a number"},
        )
    signature = Model.load(tmp_path / "m").signature
    assert signature is not None
    assert signature.outputs is None
    assert signature.inputs is not None


def test_artifact_path_escaping_the_model_is_refused(tmp_path: Path, factor_file: Path) -> None:
    heron.pyfunc.save_model(
        tmp_path / "m", python_model=Scale(), artifacts={"factor": str(factor_file)}
    )
    model = Model.load(tmp_path / "m")
    model.flavors["python_function"]["artifacts"]["factor"]["path"] = "/etc/passwd"
    model.save(tmp_path / "m" / "MLmodel")
    with pytest.raises(InvalidParameter, match="outside the model directory"):
        heron.pyfunc.load_model(str(tmp_path / "m"))


def test_unknown_loader_module_is_a_clear_error(tmp_path: Path) -> None:
    Model(flavors={"python_function": {"loader_module": "mlflow.keras"}}).save(tmp_path / "MLmodel")
    with pytest.raises(InvalidParameter, match=r"mlflow\.keras"):
        heron.pyfunc.load_model(str(tmp_path))


def test_get_model_info_reads_the_mlmodel(tmp_path: Path, factor_file: Path) -> None:
    heron.pyfunc.save_model(
        tmp_path / "m",
        python_model=Scale(),
        artifacts={"factor": str(factor_file)},
        input_example=pd.DataFrame({"a": [1.0]}),
    )
    info = heron.pyfunc.get_model_info(str(tmp_path / "m"))
    assert info.flavors["python_function"]["loader_module"] == "mlflow.pyfunc.model"
    assert info.signature_dict is not None
    assert info.signature_dict["inputs"] == '[{"type": "double", "name": "a", "required": true}]'


def test_mlflow_model_code_gets_a_clear_error(tmp_path: Path) -> None:
    code = tmp_path / "mlflow_agent.py"
    code.write_text("import mlflow\nmlflow.models.set_model(lambda x: x)\n")
    with pytest.raises(InvalidParameter, match=r"heron\.models\.set_model"):
        heron.pyfunc.save_model(tmp_path / "m", python_model=str(code))
