"""The server's side of MLflow's messages: reading requests into entities, paging, view types.

Entities are written as JSON by `heron.mlflow_json`, which the client shares."""

from __future__ import annotations

from collections.abc import Sequence

from heron.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    Metric,
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


def read_metric(f: Fields, timestamp_required: bool = True) -> Metric:
    value = f.double("value", required=True)
    timestamp = f.int64("timestamp", required=timestamp_required)
    assert value is not None  # noqa: S101 (required)
    assert timestamp is not None  # noqa: S101 (required)
    return Metric(
        key=f.required_string("key"), value=value, timestamp=timestamp, step=f.int64("step") or 0
    )


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
