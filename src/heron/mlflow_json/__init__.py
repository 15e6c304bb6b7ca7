"""Heron entities as MLflow's JSON messages: what the server answers and the client sends.

Proto-JSON conventions: snake_case keys, int64 as numbers, empty fields omitted, and NaN and
the infinities as the strings MLflow's parser accepts."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from heron.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    JsonKeyValues,
    JsonMetrics,
    LoggedModel,
    LoggedModelMetric,
    Metric,
    MetricColumns,
    Run,
    RunInfo,
)
from heron.entities.deployment_jobs import ConnectionState, DeploymentJobState
from heron.entities.registry import ModelVersion, ModelVersionRecords, RegisteredModel

Json = dict[str, Any]


def double(value: float) -> float | str:
    """A double as proto JSON writes it: NaN and infinities become strings."""
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def key_values(mapping: Mapping[str, str]) -> list[Json] | orjson.Fragment:
    if type(mapping) is JsonKeyValues:  # already this message's JSON, as the store read it
        return orjson.Fragment(mapping.json)
    return [{"key": k, "value": v} for k, v in mapping.items()]


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
    if e.workspace is not None:
        body["workspace"] = e.workspace
    return body


def metric(m: Metric) -> Json:
    value = m.value
    if value - value != 0:  # NaN or an infinity (cheaper than math.isfinite on the hot path)
        return {"key": m.key, "value": double(value), "timestamp": m.timestamp, "step": m.step}
    return {"key": m.key, "value": value, "timestamp": m.timestamp, "step": m.step}


def metrics(points: Sequence[Metric]) -> list[Json] | orjson.Fragment:
    """Many points; MetricColumns are rendered from their columns without Metric objects,
    JsonMetrics are already this message's JSON."""
    if type(points) is JsonMetrics:
        return orjson.Fragment(points.json)
    if not isinstance(points, MetricColumns):
        return [metric(m) for m in points]
    values: Sequence[float | str] = points.values
    if not all(map(math.isfinite, points.values)):
        values = [double(v) for v in points.values]
    return [
        {"key": key, "value": value, "timestamp": timestamp, "step": step}
        for key, value, timestamp, step in zip(
            points.keys, values, points.timestamps, points.steps, strict=True
        )
    ]


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
        data["metrics"] = metrics(r.data.metrics)
    if r.data.params:
        data["params"] = key_values(r.data.params)
    if r.data.tags:
        data["tags"] = key_values(r.data.tags)
    inputs: Json = {}
    if r.dataset_inputs:
        inputs["dataset_inputs"] = [dataset_input(i) for i in r.dataset_inputs]
    if r.model_inputs:
        inputs["model_inputs"] = [{"model_id": m.model_id} for m in r.model_inputs]
    body: Json = {"info": run_info(r.info), "data": data, "inputs": inputs}
    if r.model_outputs:
        body["outputs"] = {
            "model_outputs": [{"model_id": m.model_id, "step": m.step} for m in r.model_outputs]
        }
    return body


# -- LoggedModels (MLflow 3) -------------------------------------------------------------------

LOGGED_MODEL_STATUS_PREFIX = "LOGGED_MODEL_"  # on the wire: LOGGED_MODEL_READY, ...


def logged_model_metric(m: LoggedModelMetric) -> Json:
    body: Json = {
        "key": m.key,
        "value": double(m.value),
        "timestamp": m.timestamp,
        "step": m.step,
        "model_id": m.model_id,
    }
    if m.run_id:
        body["run_id"] = m.run_id
    if m.dataset_name:
        body["dataset_name"] = m.dataset_name
    if m.dataset_digest:
        body["dataset_digest"] = m.dataset_digest
    return body


def logged_model(model: LoggedModel) -> Json:
    info: Json = {
        "model_id": model.model_id,
        "experiment_id": model.experiment_id,
        "name": model.name,
        "creation_timestamp_ms": model.creation_timestamp,
        "last_updated_timestamp_ms": model.last_updated_timestamp,
        "artifact_uri": model.artifact_location,
        "status": LOGGED_MODEL_STATUS_PREFIX + str(model.status),
    }
    if model.model_type:
        info["model_type"] = model.model_type
    if model.source_run_id:
        info["source_run_id"] = model.source_run_id
    if model.status_message:
        info["status_message"] = model.status_message
    if model.tags:
        info["tags"] = key_values(model.tags)
    if model.registrations:
        info["registrations"] = [
            {"name": r.name, "version": r.version} for r in model.registrations
        ]
    data: Json = {}
    if model.params:
        data["params"] = key_values(model.params)
    if model.metrics:
        data["metrics"] = [logged_model_metric(m) for m in model.metrics]
    return {"info": info, "data": data}


# --- Model registry ---------------------------------------------------------------------------


def model_version(v: ModelVersion) -> Json:
    body = _version_body(
        v.name,
        v.version,
        v.creation_timestamp,
        v.last_updated_timestamp,
        v.current_stage,
        v.source,
        v.storage_location,
        v.user_id,
        v.description,
        v.run_id,
        v.run_link,
        v.model_id,
        v.status,
        v.status_message,
        v.tags,
        v.aliases,
    )
    if v.deployment_job_state is not None:
        body["deployment_job_state"] = deployment_job_state(v.deployment_job_state)
    return body


def deployment_job_state(state: DeploymentJobState) -> Json:
    """MLflow's ModelVersionDeploymentJobState."""
    body: Json = {"job_state": state.job_state.value, "run_state": state.run_state}
    if state.job_id:
        body["job_id"] = state.job_id
    if state.run_id:
        body["run_id"] = state.run_id
    if state.current_task_name:
        body["current_task_name"] = state.current_task_name
    return body


def deployment_job_state_in(body: Json) -> DeploymentJobState:
    return DeploymentJobState(
        job_id=body.get("job_id") or None,
        run_id=body.get("run_id") or None,
        job_state=ConnectionState(body.get("job_state", "NOT_SET_UP")),
        run_state=str(body.get("run_state", "DEPLOYMENT_JOB_RUN_STATE_UNSPECIFIED")),
        current_task_name=body.get("current_task_name") or None,
    )


def model_versions(versions: Sequence[ModelVersion]) -> list[Json]:
    """Many versions; ModelVersionRecords are rendered from their records, no objects made."""
    if isinstance(versions, ModelVersionRecords):
        return [_version_body(*record) for record in versions.records]
    return [model_version(v) for v in versions]


def _version_body(
    name: str,
    version: str,
    creation_timestamp: int,
    last_updated_timestamp: int,
    current_stage: str,
    source: str,
    _storage_location: str,  # not on the wire: get-download-uri answers it
    user_id: str | None,
    description: str | None,
    run_id: str | None,
    run_link: str | None,
    model_id: str | None,
    status: str,
    status_message: str | None,
    tags: Mapping[str, str],
    aliases: Sequence[str],
) -> Json:
    """A version's JSON from its fields in ModelVersion's order (a VersionRecord's)."""
    body: Json = {
        "name": name,
        "version": version,
        "creation_timestamp": creation_timestamp,
        "last_updated_timestamp": last_updated_timestamp,
        "current_stage": current_stage,  # StrEnums: orjson writes their value
        "source": source,
        "status": status,
    }
    # Empty fields are left out (proto JSON); a page may hold 200,000 versions, so plainly.
    if user_id:
        body["user_id"] = user_id
    if description:
        body["description"] = description
    if run_id:
        body["run_id"] = run_id
    if run_link:
        body["run_link"] = run_link
    if status_message:
        body["status_message"] = status_message
    if model_id:
        body["model_id"] = model_id
    if tags:
        body["tags"] = key_values(tags)
    if aliases:
        body["aliases"] = list(aliases)
    return body


def registered_model(m: RegisteredModel) -> Json:
    body: Json = {
        "name": m.name,
        "creation_timestamp": m.creation_timestamp,
        "last_updated_timestamp": m.last_updated_timestamp,
    }
    if m.user_id:
        body["user_id"] = m.user_id
    if m.description:
        body["description"] = m.description
    if m.latest_versions:
        body["latest_versions"] = model_versions(m.latest_versions)
    if m.tags:
        body["tags"] = key_values(m.tags)
    if m.aliases:
        body["aliases"] = [{"alias": a, "version": v} for a, v in m.aliases.items()]
    if m.deployment_job_id:
        body["deployment_job_id"] = m.deployment_job_id
        body["deployment_job_state"] = ConnectionState.CONNECTED.value
    return body
