"""`heron models serve` answers as `mlflow models serve` does: the same model directory
served by both (MLflow 3.17.2 from .venv-conformance), the same payloads, the same answers."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.interop.conftest import MLFLOW_PYTHON, RunMlflow
from tests.serving.conftest import IRIS_COLUMNS, ScoringServer

pytestmark = pytest.mark.slow

ROWS = [[5.1, 3.5, 1.4, 0.2], [6.2, 2.9, 4.3, 1.3], [7.7, 3.0, 6.1, 2.3]]
RECORDS = [dict(zip(IRIS_COLUMNS, row, strict=True)) for row in ROWS]
JSON = "application/json"

IRIS_PAYLOADS: dict[str, tuple[str, str]] = {
    "split": (json.dumps({"dataframe_split": {"columns": IRIS_COLUMNS, "data": ROWS}}), JSON),
    "records": (json.dumps({"dataframe_records": RECORDS}), JSON),
    "instances": (json.dumps({"instances": RECORDS}), JSON),
    "inputs": (json.dumps({"inputs": {c: [r[c] for r in RECORDS] for c in IRIS_COLUMNS}}), JSON),
    "csv": (",".join(f'"{c}"' for c in IRIS_COLUMNS) + "\n5.1,3.5,1.4,0.2\n", "text/csv"),
    "charset": (json.dumps({"dataframe_records": RECORDS}), "application/json; charset=UTF-8"),
    "not-json": ("{nope", JSON),
    "a-list": ("[1, 2]", JSON),
    "no-key": ('{"rows": [1]}', JSON),
    "two-keys": (json.dumps({"inputs": [1], "instances": [1]}), JSON),
    "split-not-dict": ('{"dataframe_split": [1, 2]}', JSON),
    "records-not-list": ('{"dataframe_records": {"a": 1}}', JSON),
    "missing-column": (json.dumps({"dataframe_records": [{IRIS_COLUMNS[0]: 1.0}]}), JSON),
    "xml": ("<a/>", "text/xml"),
    "latin-1": ("{}", "application/json; charset=latin-1"),
    "unknown-parameter": ("{}", "application/json; format=split"),
}
SHIFT_PAYLOADS: dict[str, tuple[str, str]] = {
    "params": (json.dumps({"dataframe_split": {"columns": ["x"], "data": [[1.0], [2.0]]},
                           "params": {"by": 10.0}}), JSON),
    "default-params": (json.dumps({"dataframe_records": [{"x": 1.0}]}), JSON),
    "bad-param": (json.dumps({"dataframe_records": [{"x": 1.0}], "params": {"by": "x"}}), JSON),
}  # fmt: skip


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory, run_mlflow_once: RunMlflow) -> Path:
    root = tmp_path_factory.mktemp("mlflow-models")
    run_mlflow_once(
        f"""
import json
import mlflow.pyfunc, mlflow.sklearn
import pandas as pd
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True, as_frame=True)
mlflow.sklearn.save_model(LogisticRegression(max_iter=300).fit(X, y), "{root}/iris",
                          input_example=X.head(2))

class Shift(mlflow.pyfunc.PythonModel):
    def predict(self, context, model_input, params=None):
        return model_input + params["by"]

mlflow.pyfunc.save_model("{root}/shift", python_model=Shift(),
                         input_example=(pd.DataFrame({{"x": [1.0]}}), {{"by": 1.0}}))
print(json.dumps(True))
"""
    )
    return root


def _mlflow_server(model: Path, log: Path) -> Iterator[str]:
    bin_dir = MLFLOW_PYTHON.parent
    server = ScoringServer([], log)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "HERON_"))}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env["MLFLOW_ALLOW_PICKLE_DESERIALIZATION"] = "true"
    command = [str(bin_dir / "mlflow"), "models", "serve", "-m", str(model),
               "--env-manager", "local", "-h", "127.0.0.1", "-p", str(server.port)]  # fmt: skip
    server.start(timeout_s=180.0, command=command, env=env)
    try:
        yield server.url
    finally:
        server.stop()


def _heron_server(model: Path, log: Path) -> Iterator[str]:
    server = ScoringServer(["-m", str(model)], log)
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="module")
def iris_servers(models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    logs = tmp_path_factory.mktemp("logs")
    mlflow = _mlflow_server(models / "iris", logs / "mlflow.log")
    heron = _heron_server(models / "iris", logs / "heron.log")
    yield next(mlflow), next(heron)
    for server in (mlflow, heron):
        next(server, None)


@pytest.fixture(scope="module")
def shift_servers(models: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    logs = tmp_path_factory.mktemp("logs")
    mlflow = _mlflow_server(models / "shift", logs / "mlflow.log")
    heron = _heron_server(models / "shift", logs / "heron.log")
    yield next(mlflow), next(heron)
    for server in (mlflow, heron):
        next(server, None)


def _answer(url: str, body: str, content_type: str) -> tuple[int, Any]:
    response = httpx.post(
        f"{url}/invocations", content=body, headers={"Content-Type": content_type}, timeout=60
    )
    try:
        document = response.json()
    except ValueError:
        return response.status_code, None
    if isinstance(document, dict) and "error_code" in document:
        return response.status_code, document["error_code"]
    return response.status_code, document


@pytest.mark.parametrize("name", list(IRIS_PAYLOADS))
def test_heron_answers_the_iris_payloads_as_mlflow(iris_servers: Any, name: str) -> None:
    mlflow, heron = iris_servers
    body, content_type = IRIS_PAYLOADS[name]
    assert _answer(heron, body, content_type) == _answer(mlflow, body, content_type)


@pytest.mark.parametrize("name", list(SHIFT_PAYLOADS))
def test_heron_answers_params_as_mlflow(shift_servers: Any, name: str) -> None:
    mlflow, heron = shift_servers
    body, content_type = SHIFT_PAYLOADS[name]
    assert _answer(heron, body, content_type) == _answer(mlflow, body, content_type)


def test_meta_routes_answer_as_mlflows(iris_servers: Any) -> None:
    mlflow, heron = iris_servers
    for path in ("/ping", "/health", "/version"):
        theirs, ours = httpx.get(mlflow + path), httpx.get(heron + path)
        assert (ours.status_code, ours.text) == (theirs.status_code, theirs.text), path
