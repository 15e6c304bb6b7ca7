"""Thresholds on evaluation metrics in the SDK: set them on an experiment (the UI's
comparison view shows them as pass or fail), and check an evaluation against them, alone or
against a baseline evaluation, in a deployment job or a CI step.

    heron.genai.set_threshold("correctness/mean", MetricThreshold(threshold=0.8))
    results = heron.genai.check_thresholds(candidate.run_id, baseline_run_id=base.run_id)
    heron.models.thresholds.raise_if_failed(results)
"""

from __future__ import annotations

from heron.client.fluent.state import active_experiment_id, tracking_client
from heron.services.metric_thresholds import (
    THRESHOLDS_TAG,
    MetricThreshold,
    ThresholdResult,
    thresholds_from_json,
    thresholds_json,
)
from heron.services.metric_thresholds import (
    check_thresholds as check_metrics,
)


def get_thresholds(experiment_id: str | None = None) -> dict[str, MetricThreshold]:
    """The thresholds an experiment (default: the active one) keeps, by metric name."""
    experiment = tracking_client().get_experiment(experiment_id or active_experiment_id())
    return thresholds_from_json(experiment.tags.get(THRESHOLDS_TAG))


def set_threshold(
    metric: str, threshold: MetricThreshold | None, experiment_id: str | None = None
) -> dict[str, MetricThreshold]:
    """Sets the threshold of `metric` (None removes it) on the experiment; returns them all."""
    experiment_id = experiment_id or active_experiment_id()
    kept = get_thresholds(experiment_id)
    if threshold is None:
        kept.pop(metric, None)
    else:
        kept[metric] = threshold
    tracking_client().set_experiment_tag(experiment_id, THRESHOLDS_TAG, thresholds_json(kept))
    return kept


def check_thresholds(
    candidate_run_id: str, baseline_run_id: str | None = None
) -> list[ThresholdResult]:
    """The candidate evaluation's metrics against its experiment's thresholds (a change is
    measured from the baseline evaluation's values)."""
    client = tracking_client()
    candidate = client.get_run(candidate_run_id)
    baseline = client.get_run(baseline_run_id) if baseline_run_id else None
    return check_metrics(
        get_thresholds(candidate.info.experiment_id),
        {m.key: m.value for m in candidate.data.metrics},
        None if baseline is None else {m.key: m.value for m in baseline.data.metrics},
    )
