"""The plots of a classic model evaluation, logged as PNG artifacts of the run (the UI shows
them on the run page): confusion matrix, ROC and precision-recall curves for classifiers,
residuals for regressors. They need matplotlib; without it none is drawn."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from heron.models.evaluation_metrics import (
    Array,
    confusion_matrix,
    precision_recall_curve,
    roc_curve,
)

log = logging.getLogger("heron.models")


def log_plots(
    client: Any, run_id: str, model_type: str, y: Array, predicted: Array, proba: Array | None,
    labels: Array,
) -> list[str]:  # fmt: skip
    """The artifact paths logged."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError:
        log.warning("matplotlib is not installed: the evaluation logs no plots")
        return []
    figures = (
        _regressor(plt, y.astype(float), predicted.astype(float))
        if model_type == "regressor"
        else _classifier(plt, y, predicted, proba, labels)
    )
    logged = []
    for path, figure in figures:
        client.log_figure(run_id, figure, path)
        plt.close(figure)
        logged.append(path)
    return logged


def _classifier(
    plt: Any, y: Array, predicted: Array, proba: Array | None, labels: Array
) -> list[tuple[str, Any]]:
    figure, axes = plt.subplots(figsize=(5, 4.5))
    matrix = confusion_matrix(y, predicted, labels)
    axes.imshow(matrix, cmap="Blues")
    for (i, j), count in np.ndenumerate(matrix):
        axes.text(j, i, str(count), ha="center", va="center")
    axes.set_xticks(range(len(labels)), [str(v) for v in labels])
    axes.set_yticks(range(len(labels)), [str(v) for v in labels])
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    axes.set_title("Confusion matrix")
    plots = [("confusion_matrix.png", figure)]
    if proba is None:
        return plots
    roc, roc_axes = plt.subplots(figsize=(5, 4.5))
    pr, pr_axes = plt.subplots(figsize=(5, 4.5))
    for i, label in enumerate(labels):
        if len(labels) == 2 and i == 0:
            continue  # a binary task draws the positive class only
        positive = y == label
        fpr, tpr = roc_curve(positive, proba[:, i])
        roc_axes.plot(fpr, tpr, label=str(label))
        precision, recall = precision_recall_curve(positive, proba[:, i])
        pr_axes.plot(recall, precision, label=str(label))
    roc_axes.plot([0, 1], [0, 1], linestyle=":", color="grey")
    roc_axes.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC curve")
    pr_axes.set(xlabel="recall", ylabel="precision", title="Precision-recall curve")
    roc_axes.legend(title="class")
    pr_axes.legend(title="class")
    return [*plots, ("roc_curve_plot.png", roc), ("precision_recall_curve_plot.png", pr)]


def _regressor(plt: Any, y: Array, predicted: Array) -> list[tuple[str, Any]]:
    figure, axes = plt.subplots(figsize=(5, 4.5))
    axes.scatter(predicted, y - predicted, s=8)
    axes.axhline(0, color="grey", linestyle=":")
    axes.set(xlabel="predicted", ylabel="residual (actual - predicted)", title="Residuals")
    return [("residuals_plot.png", figure)]
