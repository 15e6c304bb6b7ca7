"""heron.models.evaluate: a classifier's and a regressor's metrics (checked against
scikit-learn's), the plots as run artifacts, thresholds against a baseline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as sk
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression

import heron
import heron.models
import heron.sklearn
from heron.errors import InvalidParameter, InvalidState
from heron.models import MetricThreshold
from heron.models.thresholds import raise_if_failed


@pytest.fixture
def tracking(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("HERON_TRACKING_URI", "MLFLOW_TRACKING_URI"):
        monkeypatch.delenv(name, raising=False)
    heron.set_tracking_uri(str(tmp_path / "home"))
    heron.set_experiment("classic")
    yield
    while heron.active_run() is not None:
        heron.end_run()
    heron.set_tracking_uri(None)


def test_a_binary_classifier_gets_mlflow_metrics_and_plots(tracking: None) -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    model = LogisticRegression(max_iter=5000).fit(X, y)
    frame = X.assign(label=y)

    result = heron.models.evaluate(model, frame, targets="label", model_type="classifier")

    proba = model.predict_proba(X)[:, 1]
    predicted = model.predict(X)
    assert result.metrics["accuracy_score"] == pytest.approx(sk.accuracy_score(y, predicted))
    assert result.metrics["precision_score"] == pytest.approx(sk.precision_score(y, predicted))
    assert result.metrics["recall_score"] == pytest.approx(sk.recall_score(y, predicted))
    assert result.metrics["f1_score"] == pytest.approx(sk.f1_score(y, predicted))
    assert result.metrics["roc_auc"] == pytest.approx(sk.roc_auc_score(y, proba))
    assert result.metrics["log_loss"] == pytest.approx(sk.log_loss(y, model.predict_proba(X)))
    assert result.metrics["true_positives"] == sk.confusion_matrix(y, predicted)[1, 1]
    run = heron.get_run(result.run_id)
    logged = {m.key: m.value for m in run.data.metrics}
    assert logged["roc_auc"] == pytest.approx(result.metrics["roc_auc"])
    files = {
        f.path for f in heron.HeronClient(heron.get_tracking_uri()).list_artifacts(result.run_id)
    }
    assert files == {
        "confusion_matrix.png",
        "roc_curve_plot.png",
        "precision_recall_curve_plot.png",
    }


def test_a_multiclass_model_by_uri_links_its_metrics_to_the_logged_model(tracking: None) -> None:
    X, y = load_iris(return_X_y=True, as_frame=True)
    with heron.start_run():
        info = heron.sklearn.log_model(LogisticRegression(max_iter=500).fit(X, y), name="iris")
    model = heron.sklearn.load_model(info.model_uri)

    result = heron.models.evaluate(info.model_uri, X, targets=y.to_numpy(), model_type="classifier")

    predicted = model.predict(X)
    weighted = {"average": "weighted"}
    assert result.metrics["f1_score"] == pytest.approx(sk.f1_score(y, predicted, **weighted))
    assert result.metrics["precision_score"] == pytest.approx(
        sk.precision_score(y, predicted, **weighted)
    )
    assert result.metrics["roc_auc"] == pytest.approx(
        sk.roc_auc_score(y, model.predict_proba(X), multi_class="ovr", average="weighted")
    )
    linked = {m.key for m in heron.get_logged_model(info.model_id).metrics}
    assert {"accuracy_score", "roc_auc", "log_loss"} <= linked


def test_a_regressor_gets_error_metrics_and_residuals(tracking: None) -> None:
    X, y = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(X, y)

    result = heron.models.evaluate(model, X, targets=y, model_type="regressor")

    predicted = model.predict(X)
    assert result.metrics["root_mean_squared_error"] == pytest.approx(
        np.sqrt(sk.mean_squared_error(y, predicted))
    )
    assert result.metrics["mean_absolute_error"] == pytest.approx(
        sk.mean_absolute_error(y, predicted)
    )
    assert result.metrics["r2_score"] == pytest.approx(sk.r2_score(y, predicted))
    assert result.metrics["mean_absolute_percentage_error"] == pytest.approx(
        sk.mean_absolute_percentage_error(y, predicted)
    )
    assert result.artifacts == ["residuals_plot.png"]


def test_thresholds_against_a_baseline_say_which_passed(tracking: None) -> None:
    X, y = load_breast_cancer(return_X_y=True)
    candidate = LogisticRegression(max_iter=5000).fit(X, y)
    baseline = DummyClassifier(strategy="most_frequent").fit(X, y)
    thresholds: dict[str, Any] = {
        "accuracy_score": MetricThreshold(threshold=0.9, min_absolute_change=0.05),
        "log_loss": MetricThreshold(threshold=0.01, greater_is_better=False),
        "f1_score": MetricThreshold(min_relative_change=2.0),
    }

    result = heron.models.evaluate(
        candidate, X, targets=y, model_type="classifier", baseline_model=baseline,
        validation_thresholds=thresholds,
    )  # fmt: skip

    verdicts = {t.metric: t.passed for t in result.thresholds}
    assert verdicts == {"accuracy_score": True, "log_loss": False, "f1_score": False}
    assert not result.passed
    assert result.baseline_metrics is not None
    assert result.baseline_metrics["accuracy_score"] == pytest.approx(np.mean(y == 1))
    with pytest.raises(InvalidState, match=r"log_loss=.* is not <= the threshold 0\.01"):
        raise_if_failed(result.thresholds)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"targets": "nope", "model_type": "classifier"}, "only when data is a DataFrame"),
        ({"targets": [1, 2], "model_type": "classifier"}, "one label per row"),
        ({"targets": [0] * 5, "model_type": "ranker"}, "'classifier' or 'regressor'"),
    ],
    ids=["column-without-frame", "wrong-length", "unknown-type"],
)
def test_bad_arguments_say_what_to_fix(
    tracking: None, kwargs: dict[str, Any], message: str
) -> None:
    model = DummyClassifier().fit(np.zeros((5, 2)), [0, 1, 0, 1, 0])
    with pytest.raises(InvalidParameter, match=message):
        heron.models.evaluate(model, np.zeros((5, 2)), **kwargs)


def test_a_threshold_needs_something_to_check() -> None:
    with pytest.raises(InvalidParameter, match="needs a threshold"):
        MetricThreshold()
