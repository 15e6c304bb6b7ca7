"""Heron entities as MLflow's proto messages in JSON (snake_case, empty fields omitted)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from heron.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    Metric,
    Run,
    RunInfo,
    RunTag,
    ViewType,
)
from heron.server.wire import Fields, Json, wire_double
from heron.store.runs import MetricWithRunId

VIEW_TYPES = {v.name: v.value for v in ViewType}


def view_type(fields: Fields, name: str) -> ViewType:
    """A ViewType field by name or number; unset means ACTIVE_ONLY."""
    number = fields.enum(name, VIEW_TYPES)
    return ViewType.ACTIVE_ONLY if number is None else ViewType(number)


def key_values(mapping: Mapping[str, str]) -> list[Json]:
    return [{"key": k, "value": v} for k, v in mapping.items()]


def with_page_token(body: Json, next_page_token: str | None) -> Json:
    if next_page_token:
        body["next_page_token"] = next_page_token
    return body


def experiment(e: Experiment) -> Json:
    body: Json = {
        "experiment_id": e.experiment_id,
        "name": e.name,
        "artifact_location": e.artifact_location,
        "lifecycle_stage": str(e.lifecycle_stage),
        "last_update_time": e.last_update_time,
        "creation_time": e.creation_time,
    }
    if e.tags:
        body["tags"] = key_values(e.tags)
    return body


def metric(m: Metric) -> Json:
    value = m.value
    if value - value != 0:  # NaN or an infinity (cheaper than math.isfinite on the hot path)
        return {"key": m.key, "value": wire_double(value), "timestamp": m.timestamp, "step": m.step}
    return {"key": m.key, "value": value, "timestamp": m.timestamp, "step": m.step}


def metric_with_run_id(m: MetricWithRunId) -> Json:
    body = metric(m.metric)
    body["run_id"] = m.run_id
    return body


def run_info(info: RunInfo) -> Json:
    body: Json = {
        "run_id": info.run_id,
        "run_uuid": info.run_id,  # MLflow compat: the deprecated twin of run_id, still read
        "run_name": info.run_name,
        "experiment_id": info.experiment_id,
        "user_id": info.user_id,
        "status": str(info.status),
        "start_time": info.start_time,
        "artifact_uri": info.artifact_uri,
        "lifecycle_stage": str(info.lifecycle_stage),
    }
    if info.end_time is not None:
        body["end_time"] = info.end_time
    return body


def dataset(d: Dataset) -> Json:
    body: Json = {
        "name": d.name,
        "digest": d.digest,
        "source_type": d.source_type,
        "source": d.source,
    }
    if d.schema:
        body["schema"] = d.schema
    if d.profile:
        body["profile"] = d.profile
    return body


def dataset_input(item: DatasetInput) -> Json:
    body: Json = {"dataset": dataset(item.dataset)}
    if item.tags:
        body["tags"] = [{"key": t.key, "value": t.value} for t in item.tags]
    return body


def run(r: Run) -> Json:
    data: Json = {}
    if r.data.metrics:
        data["metrics"] = [metric(m) for m in r.data.metrics]
    if r.data.params:
        data["params"] = key_values(r.data.params)
    if r.data.tags:
        data["tags"] = key_values(r.data.tags)
    inputs: Json = {}
    if r.dataset_inputs:
        inputs["dataset_inputs"] = [dataset_input(i) for i in r.dataset_inputs]
    return {"info": run_info(r.info), "data": data, "inputs": inputs}


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
