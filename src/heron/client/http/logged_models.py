"""LoggedModels over HTTP: MLflow 3's /logged-models routes, and the model parts of run
requests (metrics linked to a model, run outputs and model inputs)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from heron import mlflow_json
from heron.client.http import wire
from heron.client.http.transport import Transport
from heron.client.http.wire import tag_dict
from heron.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    LoggedModelRegistration,
    LoggedModelStatus,
    Metric,
    Page,
)
from heron.mlflow_json import Json

API = "/api/2.0/mlflow"


class HttpLoggedModels:
    """The `LoggedModelApi` methods over a transport (`heron.client.http.transport.Transport`)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create_logged_model(
        self,
        experiment_id: str,
        *,
        name: str | None = None,
        source_run_id: str | None = None,
        model_type: str | None = None,
        tags: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> LoggedModel:
        body = {
            "experiment_id": experiment_id,
            "name": name,
            "source_run_id": source_run_id,
            "model_type": model_type,
            "tags": mlflow_json.key_values(tags or {}),
            "params": mlflow_json.key_values(params or {}),
        }
        return logged_model_in(self._t.post(f"{API}/logged-models", body)["model"])

    def get_logged_model(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        query = {"allow_deleted": "true"} if allow_deleted else {}
        return logged_model_in(self._t.get(_model_path(model_id), query)["model"])

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus | str) -> LoggedModel:
        name = mlflow_json.LOGGED_MODEL_STATUS_PREFIX + str(status).removeprefix(
            mlflow_json.LOGGED_MODEL_STATUS_PREFIX
        )
        body = {"model_id": model_id, "status": name}
        return logged_model_in(self._t.send_json("PATCH", _model_path(model_id), body)["model"])

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        body = {"tags": mlflow_json.key_values(tags)}
        self._t.send_json("PATCH", f"{_model_path(model_id)}/tags", body)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        path = f"{_model_path(model_id)}/tags/{urllib.parse.quote(key, safe='/')}"
        self._t.send_json("DELETE", path, {})

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        body = {"model_id": model_id, "params": mlflow_json.key_values(params)}
        self._t.post(f"{_model_path(model_id)}/params", body)

    def delete_logged_model(self, model_id: str) -> None:
        self._t.send_json("DELETE", _model_path(model_id), {"model_id": model_id})

    def search_logged_models(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        datasets: Sequence[Mapping[str, Any]] | None = None,
        max_results: int = 100,
        order_by: Sequence[Mapping[str, Any]] | None = None,
        page_token: str | None = None,
    ) -> Page[LoggedModel]:
        body = self._t.post(
            f"{API}/logged-models/search",
            {
                "experiment_ids": list(experiment_ids),
                "filter": filter_string or None,
                "datasets": [_without_nones(d) for d in datasets or ()],
                "max_results": max_results,
                "order_by": [_without_nones(o) for o in order_by or ()],
                "page_token": page_token or None,
            },
        )
        items = [logged_model_in(m) for m in body.get("models", ())]
        return Page(items, body.get("next_page_token") or None)


def _model_path(model_id: str) -> str:
    return f"{API}/logged-models/{urllib.parse.quote(model_id, safe='')}"


def _without_nones(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if v is not None}


# -- the model parts of run requests ---------------------------------------------------------


def batch_metrics(
    metrics: Sequence[Metric], model_metrics: Sequence[LoggedModelMetric]
) -> list[Json]:
    """log-batch's metrics: each point once, carrying its model link when it has one."""
    if not model_metrics:
        return [mlflow_json.metric(m) for m in metrics]
    linked = {(p.key, p.value, p.timestamp, p.step) for p in model_metrics}
    plain = [
        mlflow_json.metric(m)
        for m in metrics
        if (m.key, m.value, m.timestamp, m.step) not in linked
    ]
    return plain + [linked_metric(p) for p in model_metrics]


def linked_metric(p: LoggedModelMetric) -> Json:
    body = mlflow_json.metric(Metric(key=p.key, value=p.value, timestamp=p.timestamp, step=p.step))
    body["model_id"] = p.model_id
    if p.dataset_name:
        body["dataset_name"] = p.dataset_name
    if p.dataset_digest:
        body["dataset_digest"] = p.dataset_digest
    return body


def model_inputs_json(models: Sequence[LoggedModelInput]) -> list[Json]:
    return [{"model_id": m.model_id} for m in models]


def model_outputs_json(models: Sequence[LoggedModelOutput]) -> list[Json]:
    return [{"model_id": m.model_id, "step": m.step} for m in models]


# -- answers read back into entities ---------------------------------------------------------


def logged_model_in(body: Json) -> LoggedModel:
    info = body.get("info") or {}
    data = body.get("data") or {}
    status = str(info.get("status", "LOGGED_MODEL_PENDING"))
    return LoggedModel(
        model_id=str(info["model_id"]),
        experiment_id=str(info.get("experiment_id", "")),
        name=str(info.get("name", "")),
        artifact_location=str(info.get("artifact_uri", "")),
        creation_timestamp=int(info.get("creation_timestamp_ms", 0)),
        last_updated_timestamp=int(info.get("last_updated_timestamp_ms", 0)),
        status=LoggedModelStatus(status.removeprefix(mlflow_json.LOGGED_MODEL_STATUS_PREFIX)),
        status_message=info.get("status_message") or None,
        model_type=info.get("model_type") or None,
        source_run_id=info.get("source_run_id") or None,
        lifecycle_stage=LifecycleStage.ACTIVE,
        tags=tag_dict(info.get("tags")),
        params=tag_dict(data.get("params")),
        metrics=[_model_metric_in(m) for m in data.get("metrics", ())],
        registrations=[
            LoggedModelRegistration(name=str(r.get("name", "")), version=str(r.get("version", "")))
            for r in info.get("registrations", ())
        ],
    )


def _model_metric_in(body: Json) -> LoggedModelMetric:
    return LoggedModelMetric(
        key=str(body["key"]),
        value=wire.float_in(body.get("value")),
        timestamp=int(body.get("timestamp", 0)),
        step=int(body.get("step", 0)),
        model_id=str(body.get("model_id", "")),
        run_id=body.get("run_id") or None,
        dataset_name=body.get("dataset_name") or None,
        dataset_digest=body.get("dataset_digest") or None,
    )
