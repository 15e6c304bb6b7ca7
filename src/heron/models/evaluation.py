"""`heron.models.evaluate`: a classifier's or regressor's metrics and plots on labelled data,
logged to a run (and to its LoggedModel), checked against thresholds and a baseline model."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from heron.errors import InvalidParameter
from heron.models.evaluation_metrics import Array, classifier_metrics, regressor_metrics
from heron.models.evaluation_plots import log_plots
from heron.models.thresholds import MetricThreshold, ThresholdResult, check_thresholds

log = logging.getLogger("heron.models")
ModelType = Literal["classifier", "regressor"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelEvaluationResult:
    run_id: str
    metrics: Mapping[str, float]
    artifacts: list[str] = field(default_factory=list)
    baseline_metrics: Mapping[str, float] | None = None
    thresholds: list[ThresholdResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Every threshold passed (True when none was given)."""
        return all(t.passed for t in self.thresholds)


def evaluate(
    model: Any,
    data: Any,
    *,
    targets: Any,
    model_type: ModelType,
    baseline_model: Any = None,
    validation_thresholds: Mapping[str, MetricThreshold] | None = None,
    plots: bool = True,
) -> ModelEvaluationResult:
    """Evaluates a model on labelled data and logs the metrics (MLflow's names: accuracy_score,
    precision_score, recall_score, f1_score, roc_auc, log_loss; root_mean_squared_error,
    mean_absolute_error, r2_score, mean_absolute_percentage_error, ...) and plots
    (confusion matrix, ROC and precision-recall curves; residuals) to the active run (or a new
    one), and to the LoggedModel when the model is one.

    Args:
        model: a model URI (`models:/<id>`, `runs:/...`, `models:/name@alias`), a loaded
            pyfunc model, or anything with `predict`.
        data: a pandas DataFrame or an array of features.
        targets: the label column's name (with a DataFrame) or the labels themselves.
        model_type: "classifier" or "regressor".
        baseline_model: a model to compare with (same forms as `model`); thresholds with a
            minimum change are checked against it.
        validation_thresholds: metric name -> MetricThreshold.
        plots: log the plots as PNG artifacts (needs matplotlib).

    Returns:
        A ModelEvaluationResult; `passed` says whether every threshold held (see
        `heron.models.thresholds.raise_if_failed` for a deployment job).
    """
    from heron.client.fluent import state

    if model_type not in ("classifier", "regressor"):
        raise InvalidParameter(f"model_type is 'classifier' or 'regressor', not {model_type!r}")
    features, y = _split(data, targets)
    candidate = _load(model)
    metrics, predicted, proba, labels = _score(candidate, features, y, model_type)
    baseline = None
    if baseline_model is not None:
        baseline = _score(_load(baseline_model), features, y, model_type)[0]
    owned = state.active_run() is None
    run = state.active_run() or state.start_run()
    try:
        client = state.tracking_client()
        model_id = getattr(candidate, "model_id", None)
        _log_metrics(client, run.info.run_id, metrics, model_id)
        artifacts = (
            log_plots(client, run.info.run_id, model_type, y, predicted, proba, labels)
            if plots
            else []
        )
    finally:
        if owned:
            state.end_run()
    results = check_thresholds(validation_thresholds or {}, metrics, baseline)
    return ModelEvaluationResult(
        run_id=run.info.run_id, metrics=metrics, artifacts=artifacts, baseline_metrics=baseline,
        thresholds=results,
    )  # fmt: skip


def _split(data: Any, targets: Any) -> tuple[Any, Array]:
    if type(data).__name__ == "DataFrame":
        if isinstance(targets, str):
            if targets not in data.columns:
                raise InvalidParameter(f"The data has no column {targets!r} for targets")
            return data.drop(columns=[targets]), np.asarray(data[targets])
    elif isinstance(targets, str):
        raise InvalidParameter("targets names a column only when data is a DataFrame")
    y = np.asarray(targets)
    if y.ndim != 1 or len(y) != len(data):
        raise InvalidParameter(
            f"targets must hold one label per row of data ({len(data)}), not shape {y.shape}"
        )
    return data, y


def _load(model: Any) -> Any:
    if isinstance(model, str):
        from heron.models.pyfunc import load_model

        return load_model(model)
    if not hasattr(model, "predict"):
        raise InvalidParameter("model must be a model URI or have a predict method")
    return model


def _score(
    model: Any, features: Any, y: Array, model_type: ModelType
) -> tuple[dict[str, float], Array, Array | None, Array]:
    predicted = np.asarray(model.predict(features))
    if predicted.ndim == 2 and predicted.shape[1] == 1:
        predicted = predicted[:, 0]
    if len(predicted) != len(y):
        raise InvalidParameter(f"The model gave {len(predicted)} predictions for {len(y)} rows")
    if model_type == "regressor":
        return (
            regressor_metrics(y.astype(float), predicted.astype(float)),
            predicted,
            None,
            np.array([]),
        )
    labels = np.unique(np.concatenate([y, predicted]))
    proba = _probabilities(model, features, len(labels))
    return classifier_metrics(y, predicted, proba, labels), predicted, proba, labels


def _probabilities(model: Any, features: Any, classes: int) -> Array | None:
    raw = model.get_raw_model() if hasattr(model, "get_raw_model") else model
    predict_proba = getattr(raw, "predict_proba", None)
    if not callable(predict_proba):
        return None
    try:
        proba = np.asarray(predict_proba(features), dtype=float)
    except Exception as exc:  # a model whose predict_proba fails is scored without it
        log.warning("predict_proba failed (%s): no ROC AUC or log loss", exc)
        return None
    return proba if proba.ndim == 2 and proba.shape[1] == classes else None


def _log_metrics(
    client: Any, run_id: str, metrics: Mapping[str, float], model_id: str | None
) -> None:
    from heron.entities import LoggedModelMetric, Metric

    now = int(time.time() * 1000)
    finite = {k: v for k, v in metrics.items() if v == v}
    points = [Metric(key=k, value=v, timestamp=now) for k, v in finite.items()]
    links = [LoggedModelMetric(key=k, value=v, timestamp=now, model_id=model_id)
             for k, v in finite.items() if model_id]  # fmt: skip
    client.backend.runs.log_batch(run_id, metrics=points, model_metrics=links)
