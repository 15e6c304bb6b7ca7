"""Thresholds a candidate's metrics must meet, alone and against a baseline, with MLflow's
MetricThreshold semantics (the rules live in `heron.services.metric_thresholds`, shared with
the server's evaluation comparison view)."""

from __future__ import annotations

from heron.services.metric_thresholds import (
    MetricThreshold,
    ThresholdResult,
    check_thresholds,
    raise_if_failed,
)

__all__ = ["MetricThreshold", "ThresholdResult", "check_thresholds", "raise_if_failed"]
