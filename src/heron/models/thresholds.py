"""Thresholds a candidate's metrics must meet, alone and against a baseline, with MLflow's
MetricThreshold semantics: an absolute `threshold`, and a minimum absolute or relative change
from the baseline's value, in the direction `greater_is_better` says."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from heron.errors import InvalidParameter, InvalidState


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
