"""The metrics of a classic model evaluation, in NumPy, under MLflow's names: accuracy,
precision, recall, F1, ROC AUC and log loss for classifiers; RMSE, MAE, R² and MAPE for
regressors; and the curves the plots draw."""

from __future__ import annotations

from typing import Any

import numpy as np

Array = np.ndarray[Any, Any]


def classifier_metrics(
    y: Array, predicted: Array, proba: Array | None, labels: Array
) -> dict[str, float]:
    """Binary tasks score the positive (larger) label; multiclass ones average over classes
    weighted by support, as MLflow's default evaluator does."""
    metrics = {"example_count": float(len(y)), "accuracy_score": float(np.mean(y == predicted))}
    binary = len(labels) == 2
    precision, recall, f1, support = per_class(y, predicted, labels)
    if binary:
        metrics.update(precision_score=precision[1], recall_score=recall[1], f1_score=f1[1])
        matrix = confusion_matrix(y, predicted, labels)
        for name, (i, j) in (("true_negatives", (0, 0)), ("false_positives", (0, 1)),
                             ("false_negatives", (1, 0)), ("true_positives", (1, 1))):  # fmt: skip
            metrics[name] = float(matrix[i, j])
    else:
        weights = support / support.sum()
        metrics.update(
            precision_score=float(precision @ weights), recall_score=float(recall @ weights),
            f1_score=float(f1 @ weights),
        )  # fmt: skip
    if proba is not None:
        metrics["log_loss"] = log_loss(y, proba, labels)
        if binary:
            metrics["roc_auc"] = roc_auc(y == labels[1], proba[:, 1])
        else:
            aucs = [roc_auc(y == label, proba[:, i]) for i, label in enumerate(labels)]
            metrics["roc_auc"] = float(np.dot(aucs, support / support.sum()))
    return metrics


def per_class(y: Array, predicted: Array, labels: Array) -> tuple[Array, Array, Array, Array]:
    precision, recall, f1, support = [], [], [], []
    for label in labels:
        tp = float(np.sum((predicted == label) & (y == label)))
        predicted_n = float(np.sum(predicted == label))
        actual_n = float(np.sum(y == label))
        p = tp / predicted_n if predicted_n else 0.0
        r = tp / actual_n if actual_n else 0.0
        precision.append(p)
        recall.append(r)
        f1.append(2 * p * r / (p + r) if p + r else 0.0)
        support.append(actual_n)
    return np.array(precision), np.array(recall), np.array(f1), np.array(support)


def confusion_matrix(y: Array, predicted: Array, labels: Array) -> Array:
    index = {label: i for i, label in enumerate(labels.tolist())}
    matrix = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for actual, guess in zip(y.tolist(), predicted.tolist(), strict=True):
        if guess in index:
            matrix[index[actual], index[guess]] += 1
    return matrix


def roc_auc(positive: Array, scores: Array) -> float:
    """The area under the ROC curve: the chance a positive outscores a negative (ties half)."""
    n_pos = int(np.sum(positive))
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    i = 0
    while i < len(scores):  # average ranks over ties
        j = i
        while j + 1 < len(scores) and sorted_scores[j + 1] == sorted_scores[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2 + 1
        i = j + 1
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def log_loss(y: Array, proba: Array, labels: Array, eps: float = 1e-15) -> float:
    index = {label: i for i, label in enumerate(labels.tolist())}
    rows = np.arange(len(y))
    columns = np.array([index[v] for v in y.tolist()])
    clipped = np.clip(proba / proba.sum(axis=1, keepdims=True), eps, 1 - eps)
    return float(-np.mean(np.log(clipped[rows, columns])))


def roc_curve(positive: Array, scores: Array) -> tuple[Array, Array]:
    """False and true positive rates at each distinct threshold, from (0, 0) to (1, 1)."""
    order = np.argsort(-scores, kind="mergesort")
    hits = positive[order].astype(float)
    distinct = np.r_[np.where(np.diff(scores[order]))[0], len(scores) - 1]
    tps = np.cumsum(hits)[distinct]
    fps = (1 + distinct) - tps
    tpr = np.r_[0.0, tps / max(tps[-1], 1)]
    fpr = np.r_[0.0, fps / max(fps[-1], 1)]
    return fpr, tpr


def precision_recall_curve(positive: Array, scores: Array) -> tuple[Array, Array]:
    order = np.argsort(-scores, kind="mergesort")
    hits = positive[order].astype(float)
    distinct = np.r_[np.where(np.diff(scores[order]))[0], len(scores) - 1]
    tps = np.cumsum(hits)[distinct]
    precision = tps / (1 + distinct)
    recall = tps / max(tps[-1], 1)
    return np.r_[1.0, precision], np.r_[0.0, recall]


def regressor_metrics(y: Array, predicted: Array) -> dict[str, float]:
    error = predicted - y
    total = float(np.sum((y - y.mean()) ** 2))
    nonzero = y != 0
    mape = float(np.mean(np.abs(error[nonzero] / y[nonzero]))) if nonzero.any() else float("nan")
    return {
        "example_count": float(len(y)),
        "mean_absolute_error": float(np.mean(np.abs(error))),
        "mean_squared_error": float(np.mean(error**2)),
        "root_mean_squared_error": float(np.sqrt(np.mean(error**2))),
        "r2_score": 1.0 - float(np.sum(error**2)) / total if total else float("nan"),
        "max_error": float(np.max(np.abs(error))),
        "mean_absolute_percentage_error": mape,
        "sum_on_target": float(np.sum(y)),
        "mean_on_target": float(np.mean(y)),
    }
