"""The sklearn flavor: save, load, predict through pyfunc, the files MLflow expects."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

import heron.pyfunc
import heron.sklearn
from heron.errors import AlreadyExists, InvalidParameter
from heron.models.mlmodel import Model


def test_saved_model_predicts_like_the_original(tmp_path: Path, iris: Any, iris_model: Any) -> None:
    features, _ = iris
    heron.sklearn.save_model(iris_model, tmp_path / "m", input_example=features.head(3))
    loaded = heron.sklearn.load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(features), iris_model.predict(features))
    pyfunc = heron.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(pyfunc.predict(features), iris_model.predict(features))
    assert pyfunc.get_raw_model().get_params() == iris_model.get_params()


def test_files_and_mlmodel_fields(tmp_path: Path, iris: Any, iris_model: Any) -> None:
    features, _ = iris
    heron.sklearn.save_model(iris_model, tmp_path / "m", input_example=features.head(2))
    names = {p.name for p in (tmp_path / "m").iterdir()}
    assert names == {
        "MLmodel",
        "model.pkl",
        "input_example.json",
        "serving_input_example.json",
        "requirements.txt",
        "python_env.yaml",
        "conda.yaml",
    }
    data = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert data["flavors"]["sklearn"]["serialization_format"] == "cloudpickle"
    assert data["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    assert data["signature"]["outputs"] == '[{"type": "long", "required": true}]'
    assert data["model_size_bytes"] > 0
    serving = json.loads((tmp_path / "m" / "serving_input_example.json").read_text())
    assert serving["dataframe_split"]["columns"] == features.columns.tolist()


def test_requirements_are_pinned_to_installed_versions(tmp_path: Path, iris_model: Any) -> None:
    import sklearn

    heron.sklearn.save_model(iris_model, tmp_path / "m", extra_pip_requirements=["rich>=13"])
    requirements = (tmp_path / "m" / "requirements.txt").read_text().splitlines()
    assert f"scikit-learn=={sklearn.__version__}" in requirements
    assert any(r.startswith("cloudpickle==") for r in requirements)
    assert "rich>=13" in requirements
    env = yaml.safe_load((tmp_path / "m" / "python_env.yaml").read_text())
    assert env["dependencies"] == ["-r requirements.txt"]
    conda = yaml.safe_load((tmp_path / "m" / "conda.yaml").read_text())
    assert conda["dependencies"][-1]["pip"] == requirements


def test_pip_requirements_replace_the_inferred_ones(tmp_path: Path, iris_model: Any) -> None:
    heron.sklearn.save_model(iris_model, tmp_path / "m", pip_requirements=["scikit-learn"])
    assert (tmp_path / "m" / "requirements.txt").read_text() == "scikit-learn"
    with pytest.raises(InvalidParameter, match="not both"):
        heron.sklearn.save_model(
            iris_model, tmp_path / "n", pip_requirements=["a"], extra_pip_requirements=["b"]
        )


def test_skops_format_round_trips(tmp_path: Path, iris: Any, iris_model: Any) -> None:
    pytest.importorskip("skops")
    features, _ = iris
    heron.sklearn.save_model(iris_model, tmp_path / "m", serialization_format="skops")
    assert (tmp_path / "m" / "model.skops").is_file()
    loaded = heron.pyfunc.load_model(str(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.predict(features), iris_model.predict(features))


def test_save_refuses_a_non_empty_directory_and_bad_options(
    tmp_path: Path, iris_model: Any
) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "x").write_text("")
    with pytest.raises(AlreadyExists):
        heron.sklearn.save_model(iris_model, tmp_path / "m")
    with pytest.raises(InvalidParameter, match="serialization_format"):
        heron.sklearn.save_model(iris_model, tmp_path / "n", serialization_format="json")
    with pytest.raises(InvalidParameter, match="predict_magic"):
        heron.sklearn.save_model(iris_model, tmp_path / "o", pyfunc_predict_fn="predict_magic")


def test_predict_proba_as_the_pyfunc_method(tmp_path: Path, iris: Any, iris_model: Any) -> None:
    features, _ = iris
    heron.sklearn.save_model(iris_model, tmp_path / "m", pyfunc_predict_fn="predict_proba")
    out = heron.pyfunc.load_model(str(tmp_path / "m")).predict(features.head(2))
    assert out.shape == (2, 3)


def test_bad_input_names_the_column(tmp_path: Path, iris: Any, iris_model: Any) -> None:
    features, _ = iris
    heron.sklearn.save_model(iris_model, tmp_path / "m", input_example=features.head(2))
    model = heron.pyfunc.load_model(str(tmp_path / "m"))
    with pytest.raises(InvalidParameter, match="petal width"):
        model.predict(features.drop(columns=["petal width (cm)"]))
    with pytest.raises(InvalidParameter, match=r"'sepal length \(cm\)'.*string to double"):
        model.predict(features.astype({"sepal length (cm)": str}))


def test_version_mismatch_warns(tmp_path: Path, iris_model: Any) -> None:
    heron.sklearn.save_model(iris_model, tmp_path / "m")
    model = Model.load(tmp_path / "m")
    model.flavors["sklearn"]["sklearn_version"] = "0.1.0"
    model.flavors["python_function"]["python_version"] = "2.7.18"
    model.save(tmp_path / "m" / "MLmodel")
    with pytest.warns(UserWarning, match="This model was saved with") as caught:
        heron.pyfunc.load_model(str(tmp_path / "m"))
    messages = " ".join(str(w.message) for w in caught)
    assert "Python 2.7.18" in messages
    assert "scikit-learn 0.1.0" in messages


def test_model_file_outside_the_directory_is_refused(tmp_path: Path, iris_model: Any) -> None:
    heron.sklearn.save_model(iris_model, tmp_path / "m")
    (tmp_path / "elsewhere.pkl").write_bytes((tmp_path / "m" / "model.pkl").read_bytes())
    model = Model.load(tmp_path / "m")
    model.flavors["sklearn"]["pickled_model"] = "../elsewhere.pkl"
    model.save(tmp_path / "m" / "MLmodel")
    with warnings.catch_warnings(), pytest.raises(InvalidParameter, match="outside the model"):
        heron.sklearn.load_model(tmp_path / "m")
