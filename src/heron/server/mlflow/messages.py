"""The server's side of MLflow's messages: reading requests into entities, paging, view types.

Entities are written as JSON by `heron.mlflow_json`, which the client shares."""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import repeat

from heron.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LoggedModelMetric,
    Metric,
    MetricColumns,
    RunTag,
    ViewType,
)
from heron.mlflow_json import Json, metric
from heron.server.wire import Fields
from heron.store.runs import MetricWithRunId

VIEW_TYPES = {v.name: v.value for v in ViewType}


def view_type(fields: Fields, name: str) -> ViewType:
    """A ViewType field by name or number; unset means ACTIVE_ONLY."""
    number = fields.enum(name, VIEW_TYPES)
    return ViewType.ACTIVE_ONLY if number is None else ViewType(number)


def with_page_token(body: Json, next_page_token: str | None) -> Json:
    if next_page_token:
        body["next_page_token"] = next_page_token
    return body


def metric_with_run_id(point: MetricWithRunId) -> Json:
    body = metric(point.metric)
    body["run_id"] = point.run_id
    return body


# ---------------------------------------------------------------------------------------------
# Request messages -> entities


def read_metric(f: Fields) -> Metric:
    data = f.data
    key, value, timestamp = data.get("key"), data.get("value"), data.get("timestamp")
    step = data.get("step", 0)
    # The exact types the mlflow client sends skip the general field reader (about 30 us a
    # metric in a 1,000-metric batch); anything else (int64 strings, "NaN", nulls, wrong
    # types) takes it, for its conversions and its errors. The service checks the ranges.
    if (
        type(key) is str
        and type(value) is float
        and value - value == 0  # finite
        and type(timestamp) is int
        and type(step) is int
    ):
        return Metric(key=key, value=value, timestamp=timestamp, step=step)
    checked_value = f.double("value", required=True)
    checked_timestamp = f.int64("timestamp", required=True)
    assert checked_value is not None  # noqa: S101 (required)
    assert checked_timestamp is not None  # noqa: S101 (required)
    return Metric(
        key=f.required_string("key"),
        value=checked_value,
        timestamp=checked_timestamp,
        step=f.int64("step") or 0,
    )


def read_metrics(f: Fields) -> Sequence[Metric]:
    """A log-batch's metrics. When every point has exactly the types the mlflow client sends,
    they are read column by column (no object per point); otherwise point by point through
    read_metric, for its conversions and its errors. The service checks the ranges."""
    items = f.data.get("metrics")
    if type(items) is list and all(type(item) is dict for item in items):
        keys = [item.get("key") for item in items]
        values = [item.get("value") for item in items]
        timestamps = [item.get("timestamp") for item in items]
        steps = [item.get("step", 0) for item in items]
        if (
            all(type(key) is str for key in keys)
            and all(type(value) is float for value in values)
            and all(map(math.isfinite, values))
            and all(type(timestamp) is int for timestamp in timestamps)
            and all(type(step) is int for step in steps)
        ):
            return MetricColumns(keys, values, timestamps, steps)
    return [read_metric(item) for item in f.messages("metrics")]


def read_model_metric(f: Fields, point: Metric) -> LoggedModelMetric | None:
    """The link of a metric point to a logged model (and the dataset it was computed on), when
    the message names a model."""
    model_id = f.string("model_id")
    if not model_id:
        return None
    return LoggedModelMetric(
        key=point.key,
        value=point.value,
        timestamp=point.timestamp,
        step=point.step,
        model_id=model_id,
        dataset_name=f.string("dataset_name") or None,
        dataset_digest=f.string("dataset_digest") or None,
    )


def read_model_metrics(f: Fields) -> list[LoggedModelMetric]:
    """The log-batch metrics that name a logged model (call after read_metrics, which checks
    the list). One C-speed scan finds that none does, the usual case: a batch without models
    pays no more than that."""
    items = f.data.get("metrics")
    if type(items) is not list or not any(map(dict.__contains__, items, repeat("model_id"))):
        return []
    found = []
    for item in f.messages("metrics"):
        if item.string("model_id"):
            link = read_model_metric(item, read_metric(item))
            if link is not None:
                found.append(link)
    return found


def read_tags(items: Sequence[Fields]) -> list[RunTag]:
    return [RunTag(key=t.required_string("key"), value=t.required_string("value")) for t in items]


def read_dataset_input(f: Fields) -> DatasetInput:
    d = f.message("dataset", required=True)
    assert d is not None  # noqa: S101 (required)
    return DatasetInput(
        dataset=Dataset(
            name=d.required_string("name"),
            digest=d.required_string("digest"),
            source_type=d.required_string("source_type"),
            source=d.required_string("source"),
            schema=d.string("schema") or "",
            profile=d.string("profile") or "",
        ),
        tags=[
            InputTag(key=t.required_string("key"), value=t.required_string("value"))
            for t in f.messages("tags")
        ],
    )
