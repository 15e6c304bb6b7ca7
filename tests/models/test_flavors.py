"""The other flavors (XGBoost, LightGBM, statsmodels, ONNX, PyTorch): save, load the raw model,
predict through pyfunc the same as the framework, log and load back by URI."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

import heron
import heron.pyfunc
from heron.errors import InvalidParameter


def xgboost_case(
    features: pd.DataFrame, target: pd.Series
) -> tuple[Any, Any, Callable[[Any], Any]]:
    xgboost = pytest.importorskip("xgboost")
    model = xgboost.XGBClassifier(n_estimators=4, max_depth=2).fit(features, target)
    return model, features, model.predict


def xgboost_booster_case(
    features: pd.DataFrame, target: pd.Series
) -> tuple[Any, Any, Callable[[Any], Any]]:
    xgboost = pytest.importorskip("xgboost")
    booster = xgboost.train({"max_depth": 2}, xgboost.DMatrix(features, target), 3)
    return booster, features, lambda x: booster.predict(xgboost.DMatrix(x))


def lightgbm_case(
    features: pd.DataFrame, target: pd.Series
) -> tuple[Any, Any, Callable[[Any], Any]]:
    lightgbm = pytest.importorskip("lightgbm")
    model = lightgbm.LGBMClassifier(n_estimators=4, verbose=-1).fit(features, target)
    return model, features, model.predict


def lightgbm_booster_case(
    features: pd.DataFrame, target: pd.Series
) -> tuple[Any, Any, Callable[[Any], Any]]:
    lightgbm = pytest.importorskip("lightgbm")
    booster = lightgbm.train({"verbose": -1}, lightgbm.Dataset(features, target), 3)
    return booster, features, booster.predict


def statsmodels_case(
    features: pd.DataFrame, target: pd.Series
) -> tuple[Any, Any, Callable[[Any], Any]]:
    sm = pytest.importorskip("statsmodels.api")
    design = sm.add_constant(features)
    results = sm.OLS(target.astype(float), design).fit()
    return results, design, results.predict


def onnx_case(features: pd.DataFrame, target: pd.Series) -> tuple[Any, Any, Callable[[Any], Any]]:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, 4])
    y = helper.make_tensor_value_info("Y", TensorProto.FLOAT, [None, 4])
    two = helper.make_tensor("two", TensorProto.FLOAT, [1], [2.0])
    graph = helper.make_graph(
        [helper.make_node("Mul", ["X", "two"], ["Y"])], "double", [x], [y], [two]
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 9
    onnx.checker.check_model(model)
    data = features.to_numpy(dtype=np.float32)
    return model, data, lambda x: {"Y": x * 2}


def pytorch_case(
    features: pd.DataFrame, target: pd.Series
) -> tuple[Any, Any, Callable[[Any], Any]]:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    module = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.Softmax(dim=1))
    data = np.array(features, dtype=np.float32)  # writable, as torch.from_numpy wants

    def predict(x: Any) -> Any:
        with torch.no_grad():
            return module(torch.from_numpy(x)).numpy()

    return module, data, predict


CASES = {
    "xgboost": ("xgboost", xgboost_case),
    "xgboost-booster": ("xgboost", xgboost_booster_case),
    "lightgbm": ("lightgbm", lightgbm_case),
    "lightgbm-booster": ("lightgbm", lightgbm_booster_case),
    "statsmodels": ("statsmodels", statsmodels_case),
    "onnx": ("onnx", onnx_case),
    "pytorch": ("pytorch", pytorch_case),
}


@pytest.fixture(params=list(CASES))
def case(request: pytest.FixtureRequest, iris: Any) -> tuple[Any, Any, Any, Callable[[Any], Any]]:
    flavor_name, build = CASES[request.param]
    flavor = importlib.import_module(f"heron.models.flavors.{flavor_name}")
    model, data, predict = build(*iris)
    return flavor, model, data, predict


def assert_same(actual: Any, expected: Any) -> None:
    if isinstance(expected, dict):
        assert actual.keys() == expected.keys()
        for key in expected:
            np.testing.assert_allclose(actual[key], expected[key], rtol=1e-6)
    else:
        np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=1e-6)


def test_saved_model_predicts_like_the_framework(case: Any, tmp_path: Path) -> None:
    flavor, model, data, predict = case
    flavor.save_model(model, tmp_path / "m", input_example=data[:2])
    conf = yaml.safe_load((tmp_path / "m" / "MLmodel").read_text())
    assert conf["flavors"][flavor.FLAVOR.name][flavor.FLAVOR.version_key] == flavor.FLAVOR.version()
    assert conf["flavors"]["python_function"]["loader_module"] == flavor.FLAVOR.loader_module
    assert conf["signature"]["inputs"]
    requirements = (tmp_path / "m" / "requirements.txt").read_text()
    assert "==" in requirements
    assert "+" not in requirements  # no local version labels such as +cpu
    pyfunc = heron.pyfunc.load_model(str(tmp_path / "m"))
    assert_same(pyfunc.predict(data), predict(data))
    raw = flavor.load_model(tmp_path / "m")
    assert type(raw).__name__ == type(model).__name__ or flavor.FLAVOR.name == "statsmodels"


def test_wrong_object_is_refused(case: Any, tmp_path: Path) -> None:
    flavor, _, _, _ = case
    with pytest.raises(InvalidParameter):
        flavor.save_model(object(), tmp_path / "m")


@pytest.fixture
def local_tracking(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    for name in ("HERON_TRACKING_URI", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    heron.set_tracking_uri(str(tmp_path / "home"))
    yield
    while heron.active_run() is not None:
        heron.end_run()
    heron.set_tracking_uri(None)


def test_logged_model_loads_by_uri(case: Any, local_tracking: None) -> None:
    flavor, model, data, predict = case
    with heron.start_run():
        info = flavor.log_model(model, name="model", input_example=data[:2], tags={"k": "v"})
    assert_same(heron.pyfunc.load_model(info.model_uri).predict(data), predict(data))
    assert info.tags["k"] == "v"
