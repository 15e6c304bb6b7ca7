"""`heron models predict`: JSON and CSV scoring requests, clear errors, output files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

import heron.sklearn
from heron.cli.main import main


def heron_cli(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def model_path(tmp_path: Path, iris: Any, iris_model: Any) -> Path:
    features, _ = iris
    heron.sklearn.save_model(iris_model, tmp_path / "model", input_example=features.head(2))
    return tmp_path / "model"


def test_predicts_the_serving_example(model_path: Path, iris: Any, iris_model: Any) -> None:
    features, _ = iris
    result = heron_cli(
        "models",
        "predict",
        "-m",
        str(model_path),
        "-i",
        str(model_path / "serving_input_example.json"),
    )
    assert result.exit_code == 0, result.output
    expected = iris_model.predict(features.head(2)).tolist()
    assert json.loads(result.output) == {"predictions": expected}


@pytest.mark.parametrize(
    "body",
    [
        {
            "dataframe_records": [
                {
                    "sepal length (cm)": 5.1,
                    "sepal width (cm)": 3.5,
                    "petal length (cm)": 1.4,
                    "petal width (cm)": 0.2,
                }
            ]
        },
        {
            "inputs": {
                "sepal length (cm)": 5.1,
                "sepal width (cm)": 3.5,
                "petal length (cm)": 1.4,
                "petal width (cm)": 0.2,
            }
        },
    ],
    ids=["records", "inputs-dict"],
)
def test_other_json_shapes(model_path: Path, tmp_path: Path, body: dict[str, Any]) -> None:
    request = tmp_path / "in.json"
    request.write_text(json.dumps(body))
    out = tmp_path / "out.json"
    result = heron_cli(
        "models", "predict", "-m", str(model_path), "-i", str(request), "-o", str(out)
    )
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text()) == {"predictions": [0]}


def test_csv_input(model_path: Path, tmp_path: Path, iris: Any) -> None:
    features, _ = iris
    request = tmp_path / "in.csv"
    features.head(3).to_csv(request, index=False)
    result = heron_cli("models", "predict", "-m", str(model_path), "-i", str(request), "-t", "csv")
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)["predictions"]) == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"rows": []}', "exactly one of"),
        ('{"inputs": [[1, 2]]}', "missing inputs"),
    ],
    ids=["not-json", "no-input-key", "wrong-columns"],
)
def test_bad_requests_are_one_line_errors(
    model_path: Path, tmp_path: Path, text: str, message: str
) -> None:
    request = tmp_path / "in.json"
    request.write_text(text)
    result = heron_cli("models", "predict", "-m", str(model_path), "-i", str(request))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_model_is_an_error(tmp_path: Path) -> None:
    request = tmp_path / "in.json"
    request.write_text('{"inputs": [1]}')
    result = heron_cli("models", "predict", "-m", str(tmp_path / "nope"), "-i", str(request))
    assert result.exit_code == 1
    assert "No model at" in result.output


def test_predicts_a_logged_model_by_uri(tmp_path: Path, iris: Any, iris_model: Any) -> None:
    import heron
    from heron.models.uri import close_clients

    features, _ = iris
    home = str(tmp_path / "home")
    heron.set_tracking_uri(home)
    try:
        info = heron.sklearn.log_model(
            iris_model, name="clf", input_example=features.head(2), registered_model_name="cli"
        )
        request = tmp_path / "in.json"
        request.write_text(json.dumps({"dataframe_split": features.head(2).to_dict("split")}))
        for uri in (info.model_uri, "models:/cli/1"):
            result = heron_cli(
                "models", "predict", "-m", uri, "-i", str(request), "--tracking-uri", home
            )
            assert result.exit_code == 0, result.output
            assert json.loads(result.output) == {
                "predictions": iris_model.predict(features.head(2)).tolist()
            }
    finally:
        heron.set_tracking_uri(None)
        close_clients()
