"""MLflow JSON writing: column-wise MetricColumns renders exactly as its Metric objects do."""

from __future__ import annotations

import math

from heron import mlflow_json
from heron.entities import Metric, MetricColumns


def test_series_renders_like_its_points_including_nan_and_infinities() -> None:
    series = MetricColumns(
        ["loss"] * 4, [0.5, math.nan, math.inf, -1.0], [10, 11, 12, 13], [0, 1, 2, 3]
    )
    assert mlflow_json.metrics(series) == [mlflow_json.metric(m) for m in list(series)]
    assert [p["value"] for p in mlflow_json.metrics(series)] == [0.5, "NaN", "Infinity", -1.0]


def test_columns_are_a_sequence_of_metrics() -> None:
    series = MetricColumns(["m", "m", "n"], [0.1, 0.2, 0.3], [1, 2, 3], [5, 6, 7])
    assert len(series) == 3
    assert series[1] == Metric(key="m", value=0.2, timestamp=2, step=6)
    assert [m.step for m in series[1:]] == [6, 7]
    assert [m.value for m in reversed(series)] == [0.3, 0.2, 0.1]


def test_columns_equal_the_list_of_the_same_metrics() -> None:
    columns = MetricColumns(["a", "b"], [1.0, 2.0], [10, 20], [0, 1])
    assert columns == [Metric(key="a", value=1.0, timestamp=10), Metric(key="b", value=2.0,
                       timestamp=20, step=1)]  # fmt: skip
    assert columns != [Metric(key="a", value=1.0, timestamp=10)]
    assert MetricColumns([], [], [], []) == []
