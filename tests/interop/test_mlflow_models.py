"""Models move both ways between Heron and MLflow 3.17.2, with the same predictions."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import heron.pyfunc
import heron.sklearn
from heron.errors import InvalidParameter
from heron.models.mlmodel import Model

pytestmark = pytest.mark.slow

RunMlflow = Callable[..., Any]

# MLflow saves three models (sklearn as skops, its default, and as cloudpickle; a custom
# pyfunc model with an artifact and params) and records its own predictions.
MLFLOW_SAVES = """
import json
import mlflow.pyfunc, mlflow.sklearn
import pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True, as_frame=True)
model = LogisticRegression(max_iter=300).fit(X, y)
mlflow.sklearn.save_model(model, "skops", input_example=X.head(2))
mlflow.sklearn.save_model(model, "cloudpickle", input_example=X.head(2),
                          serialization_format="cloudpickle")

class Scale(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["factor"]) as f:
            self.factor = float(f.read())

    def predict(self, context, model_input, params=None):
        return model_input * self.factor * (params or {}).get("k", 1)

with open("factor.txt", "w") as f:
    f.write("2.5")
example = (pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}), {"k": 1})
mlflow.pyfunc.save_model("pyfunc", python_model=Scale(), artifacts={"factor": "factor.txt"},
                         input_example=example)
scaled = mlflow.pyfunc.load_model("pyfunc").predict(
    pd.DataFrame({"a": [1.0], "b": [2.0]}), params={"k": 4})
import os
print(json.dumps({"dir": os.getcwd(), "proba": model.predict_proba(X).tolist(),
                  "scaled": scaled.to_dict(orient="list")}))
"""


@pytest.fixture(scope="module")
def mlflow_models(run_mlflow_once: RunMlflow) -> dict[str, Any]:
    out: dict[str, Any] = run_mlflow_once(MLFLOW_SAVES)
    return out


@pytest.mark.parametrize("serialization_format", ["skops", "cloudpickle"])
def test_sklearn_model_saved_by_mlflow_predicts_in_heron(
    mlflow_models: dict[str, Any], iris: Any, serialization_format: str
) -> None:
    path = Path(mlflow_models["dir"]) / serialization_format
    features, _ = iris
    raw = heron.sklearn.load_model(path)
    np.testing.assert_allclose(raw.predict_proba(features), mlflow_models["proba"])
    pyfunc = heron.pyfunc.load_model(str(path))
    assert pyfunc.predict(features).tolist() == np.argmax(mlflow_models["proba"], axis=1).tolist()


def test_pyfunc_model_saved_by_mlflow_predicts_in_heron(mlflow_models: dict[str, Any]) -> None:
    model = heron.pyfunc.load_model(str(Path(mlflow_models["dir"]) / "pyfunc"))
    out = model.predict(pd.DataFrame({"a": [1.0], "b": [2.0]}), params={"k": 4})
    assert out.to_dict(orient="list") == mlflow_models["scaled"] == {"a": [10.0], "b": [20.0]}
    assert type(model.unwrap_python_model()).__name__ == "Scale"


def test_heron_writes_the_examples_and_signature_mlflow_writes(
    mlflow_models: dict[str, Any], tmp_path: Path, iris: Any, iris_model: Any
) -> None:
    features, _ = iris
    ours = tmp_path / "heron_model"
    heron.sklearn.save_model(iris_model, ours, input_example=features.head(2))
    theirs = Path(mlflow_models["dir"]) / "cloudpickle"
    for name in ("serving_input_example.json", "input_example.json"):
        assert json.loads((ours / name).read_text()) == json.loads((theirs / name).read_text())
    ours_model, theirs_model = Model.load(ours), Model.load(theirs)
    assert ours_model.signature == theirs_model.signature
    assert ours_model.saved_input_example_info == theirs_model.saved_input_example_info
    assert ours_model.flavors["sklearn"].keys() == theirs_model.flavors["sklearn"].keys()


def test_sklearn_model_saved_by_heron_predicts_in_mlflow(
    run_mlflow: RunMlflow, tmp_path: Path, iris: Any, iris_model: Any
) -> None:
    features, _ = iris
    path = tmp_path / "heron_model"
    heron.sklearn.save_model(iris_model, path, input_example=features.head(3))
    result = run_mlflow(
        f"""
import json
import mlflow.pyfunc, mlflow.sklearn
import pandas as pd
from mlflow.models import Model
from sklearn.datasets import load_iris
X, _ = load_iris(return_X_y=True, as_frame=True)
raw = mlflow.sklearn.load_model({str(path)!r})
pyfunc = mlflow.pyfunc.load_model({str(path)!r})
try:
    pyfunc.predict(pd.DataFrame({{"sepal length (cm)": [1.0]}}))
    error = "no error"
except Exception as exc:
    error = str(exc)
print(json.dumps({{
    "proba": raw.predict_proba(X).tolist(),
    "pyfunc": pyfunc.predict(X).tolist(),
    "inputs": pyfunc.metadata.get_input_schema().input_names(),
    "example_rows": len(Model.load({str(path)!r}).load_input_example({str(path)!r})),
    "error": error,
}}))
"""
    )
    np.testing.assert_allclose(result["proba"], iris_model.predict_proba(features))
    assert result["pyfunc"] == iris_model.predict(features).tolist()
    assert result["inputs"] == features.columns.tolist()
    assert result["example_rows"] == 3
    # Both sides refuse the same bad input.
    assert "missing inputs" in result["error"]
    with pytest.raises(InvalidParameter, match="missing inputs"):
        heron.pyfunc.load_model(str(path)).predict(pd.DataFrame({"sepal length (cm)": [1.0]}))
