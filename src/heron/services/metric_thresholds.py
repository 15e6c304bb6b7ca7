"""Thresholds a candidate's metrics must meet, alone and against a baseline, with MLflow's
MetricThreshold semantics: an absolute `threshold`, and a minimum absolute or relative change
from the baseline's value, in the direction `greater_is_better` says. Also how an experiment
keeps its evaluation thresholds (a JSON tag), for the UI's comparison of two evaluations."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from heron.errors import InvalidParameter, InvalidState
from heron.services.experiments import ExperimentService
from heron.services.runs import RunService
from heron.services.validation import MAX_ENTITY_KEY as MAX_METRIC


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricThreshold:
    """Example:
    >>> MetricThreshold(threshold=0.8, min_absolute_change=0.01, greater_is_better=True)
    """

    threshold: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None
    greater_is_better: bool = True

    def __post_init__(self) -> None:
        if (
            self.threshold is None
            and self.min_absolute_change is None
            and (self.min_relative_change is None)
        ):
            raise InvalidParameter(
                "A MetricThreshold needs a threshold, a min_absolute_change or a "
                "min_relative_change"
            )
        for name in ("min_absolute_change", "min_relative_change"):
            value = getattr(self, name)
            if value is not None and not (value >= 0 and math.isfinite(value)):
                raise InvalidParameter(f"{name} must be a non-negative number, not {value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class ThresholdResult:
    metric: str
    candidate: float | None
    baseline: float | None
    passed: bool
    reason: str


def check_thresholds(
    thresholds: Mapping[str, MetricThreshold],
    candidate: Mapping[str, float],
    baseline: Mapping[str, float] | None = None,
) -> list[ThresholdResult]:
    """One result per threshold: passed, or the reason it failed."""
    return [_check(name, t, candidate, baseline) for name, t in thresholds.items()]


def _check(
    name: str, t: MetricThreshold, candidate: Mapping[str, float],
    baseline: Mapping[str, float] | None,
) -> ThresholdResult:  # fmt: skip
    value = candidate.get(name)
    base = None if baseline is None else baseline.get(name)
    if value is None or math.isnan(value):
        return ThresholdResult(metric=name, candidate=value, baseline=base, passed=False,
                               reason=f"the candidate has no value of {name}")  # fmt: skip
    better = ">=" if t.greater_is_better else "<="
    failures = []
    if t.threshold is not None and not _meets(value, t.threshold, t.greater_is_better):
        failures.append(f"{name}={value:.6g} is not {better} the threshold {t.threshold:g}")
    if t.min_absolute_change is not None or t.min_relative_change is not None:
        if base is None or math.isnan(base):
            failures.append(f"a change in {name} is asked for, but there is no baseline value")
        else:
            change = value - base if t.greater_is_better else base - value
            if t.min_absolute_change is not None and change < t.min_absolute_change:
                failures.append(
                    f"{name} changed by {change:+.6g} from the baseline's {base:.6g}, less than "
                    f"the {t.min_absolute_change:g} asked for"
                )
            relative = change / abs(base) if base else math.inf if change > 0 else 0.0
            if t.min_relative_change is not None and relative < t.min_relative_change:
                failures.append(
                    f"{name} changed by {relative:+.2%} relative to the baseline, less than "
                    f"the {t.min_relative_change:.2%} asked for"
                )
    return ThresholdResult(
        metric=name, candidate=value, baseline=base, passed=not failures,
        reason="; ".join(failures) or "passed",
    )  # fmt: skip


def _meets(value: float, threshold: float, greater_is_better: bool) -> bool:
    return value >= threshold if greater_is_better else value <= threshold


def raise_if_failed(results: list[ThresholdResult]) -> None:
    """For a deployment job: raises InvalidState naming every threshold that failed."""
    failed = [r for r in results if not r.passed]
    if failed:
        raise InvalidState("Model validation failed: " + "; ".join(r.reason for r in failed))


THRESHOLDS_TAG = "heron.eval.thresholds"  # an experiment's evaluation thresholds, as JSON
_KEYS = ("threshold", "min_absolute_change", "min_relative_change", "greater_is_better")


def threshold_of(metric: str, value: Any) -> MetricThreshold:
    """A threshold as JSON gives it: a number (an absolute threshold) or an object of
    MetricThreshold's fields. Raises InvalidParameter naming the metric and what is wrong."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = {"threshold": value}
    if not isinstance(value, Mapping) or set(value) - set(_KEYS):
        raise InvalidParameter(f"The threshold of {metric!r} takes {', '.join(_KEYS)}")
    better = value.get("greater_is_better", True)
    if not isinstance(better, bool):
        raise InvalidParameter(f"greater_is_better of {metric!r} must be true or false")
    numbers: dict[str, float] = {}
    for key in _KEYS[:3]:
        number = value.get(key)
        if number is None:
            continue
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InvalidParameter(f"{key} of {metric!r} must be a number, not {number!r}")
        if not math.isfinite(number):
            raise InvalidParameter(f"{key} of {metric!r} must be a finite number")
        numbers[key] = float(number)
    return MetricThreshold(greater_is_better=better, **numbers)


def thresholds_from_json(text: str | None) -> dict[str, MetricThreshold]:
    """The thresholds an experiment keeps (its THRESHOLDS_TAG), by metric name."""
    if not text:
        return {}
    try:
        raw = json.loads(text)
    except ValueError:
        raise InvalidParameter(f"The {THRESHOLDS_TAG} tag is not JSON") from None
    if not isinstance(raw, Mapping):
        raise InvalidParameter(f"The {THRESHOLDS_TAG} tag must map metric names to thresholds")
    return {str(metric): threshold_of(str(metric), value) for metric, value in raw.items()}


def thresholds_json(thresholds: Mapping[str, MetricThreshold]) -> str:
    """The JSON an experiment keeps: each threshold's fields that are set."""
    return json.dumps(
        {
            metric: {k: v for k, v in asdict(t).items() if v is not None}
            for metric, t in sorted(thresholds.items())
        }
    )


class EvaluationThresholds:
    """The thresholds an experiment keeps for its evaluations' metrics (pass or fail, alone
    or against a baseline evaluation), set by people allowed to update the experiment."""

    def __init__(self, experiments: ExperimentService, runs: RunService) -> None:
        self._experiments = experiments
        self._runs = runs

    def thresholds_of(self, experiment_id: str) -> dict[str, MetricThreshold]:
        experiment = self._experiments.get_experiment(experiment_id)
        return thresholds_from_json(experiment.tags.get(THRESHOLDS_TAG))

    def set_threshold(
        self, experiment_id: str, metric: str, threshold: MetricThreshold | None
    ) -> dict[str, MetricThreshold]:
        """Sets (or with None removes) the threshold of `metric`; returns them all."""
        if not isinstance(metric, str) or not metric.strip() or len(metric) > MAX_METRIC:
            raise InvalidParameter(f"Name the metric (1 to {MAX_METRIC} characters)")
        kept = self.thresholds_of(experiment_id)
        if threshold is None:
            kept.pop(metric, None)
        else:
            kept[metric] = threshold
        self._experiments.set_experiment_tag(experiment_id, THRESHOLDS_TAG, thresholds_json(kept))
        return kept

    def check(
        self, candidate_run_id: str, baseline_run_id: str | None = None
    ) -> list[ThresholdResult]:
        """The candidate evaluation's metrics against its experiment's thresholds, with the
        baseline evaluation's values for the thresholds of change."""
        candidate = self._runs.get_run(candidate_run_id)
        baseline = self._runs.get_run(baseline_run_id) if baseline_run_id else None
        return check_thresholds(
            self.thresholds_of(candidate.info.experiment_id),
            {m.key: m.value for m in candidate.data.metrics},
            None if baseline is None else {m.key: m.value for m in baseline.data.metrics},
        )
