"""MLflow's REST JSON answers read back into entities (the client side; writing is
`heron.mlflow_json`, shared with the server)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from heron.entities import (
    Dataset,
    DatasetInput,
    Experiment,
    InputTag,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelOutput,
    Metric,
    Run,
    RunData,
    RunInfo,
    RunStatus,
)
from heron.mlflow_json import Json


def tag_dict(items: Sequence[Json] | None) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value", "")) for t in items or ()}


def float_in(value: object) -> float:
    if isinstance(value, int | float | str):
        return float(value)
    return math.nan  # MLflow compat: a NaN may come back as null from a JSON encoder


def metric_in(body: Json) -> Metric:
    return Metric(
        key=str(body["key"]),
        value=float_in(body.get("value")),
        timestamp=int(body.get("timestamp", 0)),
        step=int(body.get("step", 0)),
    )


def experiment_in(body: Json) -> Experiment:
    return Experiment(
        experiment_id=str(body["experiment_id"]),
        name=str(body.get("name", "")),
        artifact_location=str(body.get("artifact_location", "")),
        lifecycle_stage=LifecycleStage(body.get("lifecycle_stage", "active")),
        creation_time=int(body.get("creation_time", 0)),
        last_update_time=int(body.get("last_update_time", 0)),
        tags=tag_dict(body.get("tags")),
    )


def run_info_in(body: Json) -> RunInfo:
    end_time = body.get("end_time")
    return RunInfo(
        run_id=str(body.get("run_id") or body.get("run_uuid")),
        run_name=str(body.get("run_name", "")),
        experiment_id=str(body.get("experiment_id", "")),
        user_id=str(body.get("user_id", "")),
        status=RunStatus(body.get("status", "RUNNING")),
        start_time=int(body.get("start_time", 0)),
        end_time=None if end_time is None else int(end_time),
        artifact_uri=str(body.get("artifact_uri", "")),
        lifecycle_stage=LifecycleStage(body.get("lifecycle_stage", "active")),
    )


def run_in(body: Json) -> Run:
    data = body.get("data") or {}
    inputs = body.get("inputs") or {}
    return Run(
        info=run_info_in(body["info"]),
        data=RunData(
            metrics=[metric_in(m) for m in data.get("metrics", ())],
            params=tag_dict(data.get("params")),
            tags=tag_dict(data.get("tags")),
        ),
        dataset_inputs=[dataset_input_in(d) for d in inputs.get("dataset_inputs", ())],
        model_inputs=[
            LoggedModelInput(model_id=str(m["model_id"])) for m in inputs.get("model_inputs", ())
        ],
        model_outputs=[
            LoggedModelOutput(model_id=str(m["model_id"]), step=int(m.get("step", 0)))
            for m in (body.get("outputs") or {}).get("model_outputs", ())
        ],
    )


def dataset_input_in(body: Json) -> DatasetInput:
    d = body.get("dataset") or {}
    return DatasetInput(
        dataset=Dataset(
            name=str(d.get("name", "")),
            digest=str(d.get("digest", "")),
            source_type=str(d.get("source_type", "")),
            source=str(d.get("source", "")),
            schema=str(d.get("schema", "")),
            profile=str(d.get("profile", "")),
        ),
        tags=[
            InputTag(key=str(t["key"]), value=str(t.get("value", ""))) for t in body.get("tags", ())
        ],
    )
