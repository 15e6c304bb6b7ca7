"""Models logged to a Heron server by one client load in the other: MLflow 3.17.2's client
logs, Heron's loads (and the other way round), by `models:/<model_id>` and registry URIs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

import heron
import heron.pyfunc
import heron.sklearn

pytestmark = pytest.mark.slow

RunMlflow = Callable[..., Any]


@pytest.fixture
def server(server: str) -> str:
    """conftest's server, which the fluent API follows."""
    heron.set_tracking_uri(server)
    return server


def test_model_logged_by_mlflow_loads_in_heron(
    server: str, run_mlflow: RunMlflow, iris: Any
) -> None:
    result = run_mlflow(
        """
import json
import mlflow, mlflow.pyfunc, mlflow.sklearn
import pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True, as_frame=True)
model = LogisticRegression(max_iter=300).fit(X, y)

class Shift(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input + params["by"]

with mlflow.start_run() as run:
    info = mlflow.sklearn.log_model(model, name="clf", input_example=X.head(2),
                                    registered_model_name="iris-from-mlflow")
    shift = mlflow.pyfunc.log_model(name="shift", python_model=Shift(),
                                    input_example=(pd.DataFrame({"x": [1.0]}), {"by": 1.0}))
print(json.dumps({"model_id": info.model_id, "run_id": run.info.run_id,
                  "proba": model.predict_proba(X).tolist(), "shift": shift.model_uri}))
""",
        MLFLOW_TRACKING_URI=server,
    )
    features, _ = iris
    expected = np.argmax(result["proba"], axis=1)
    for uri in (
        f"models:/{result['model_id']}",
        "models:/iris-from-mlflow/1",
        f"runs:/{result['run_id']}/clf",
    ):
        model = heron.pyfunc.load_model(uri)
        np.testing.assert_array_equal(model.predict(features), expected, err_msg=uri)
    raw = heron.sklearn.load_model(f"models:/{result['model_id']}")
    np.testing.assert_allclose(raw.predict_proba(features), result["proba"])
    shift = heron.pyfunc.load_model(result["shift"])
    assert shift.predict(pd.DataFrame({"x": [1.0, 2.0]}), params={"by": 10.0})["x"].tolist() == [
        11.0,
        12.0,
    ]


def test_model_logged_by_heron_loads_in_mlflow(
    server: str, run_mlflow: RunMlflow, iris: Any, iris_model: Any
) -> None:
    features, _ = iris
    with heron.start_run():
        info = heron.sklearn.log_model(
            iris_model,
            name="clf",
            input_example=features.head(2),
            registered_model_name="iris-from-heron",
        )
    result = run_mlflow(
        f"""
import json
import mlflow, mlflow.pyfunc, mlflow.sklearn
from sklearn.datasets import load_iris
X, _ = load_iris(return_X_y=True, as_frame=True)
by_id = mlflow.pyfunc.load_model({info.model_uri!r})
by_version = mlflow.pyfunc.load_model("models:/iris-from-heron/1")
raw = mlflow.sklearn.load_model({info.model_uri!r})
logged = mlflow.get_logged_model({info.model_id!r})
print(json.dumps({{
    "by_id": by_id.predict(X).tolist(),
    "by_version": by_version.predict(X).tolist(),
    "proba": raw.predict_proba(X).tolist(),
    "status": str(logged.status),
    "model_info_id": mlflow.models.get_model_info({info.model_uri!r}).model_id,
}}))
""",
        MLFLOW_TRACKING_URI=server,
    )
    expected = iris_model.predict(features).tolist()
    assert result["by_id"] == expected
    assert result["by_version"] == expected
    np.testing.assert_allclose(result["proba"], iris_model.predict_proba(features))
    assert "READY" in result["status"]
    assert result["model_info_id"] == info.model_id
