"""Experiments and runs over the REST API (`/api/2.0/mlflow/experiments/...`, `/runs/...`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from heron import mlflow_json
from heron.client.http import wire
from heron.client.http.logged_models import (
    batch_metrics,
    model_inputs_json,
    model_outputs_json,
)
from heron.client.http.transport import API, Transport
from heron.entities import (
    DatasetInput,
    Experiment,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    Metric,
    Page,
    Param,
    Run,
    RunInfo,
    RunStatus,
    RunTag,
    ViewType,
)


class HttpExperiments:
    """The experiment methods over `/api/2.0/mlflow/experiments/...`."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create_experiment(
        self,
        name: str,
        *,
        artifact_location: str | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        body = self._t.post(
            f"{API}/experiments/create",
            {
                "name": name,
                "artifact_location": artifact_location or None,
                "tags": mlflow_json.key_values(tags or {}),
            },
        )
        return str(body["experiment_id"])

    def get_experiment(self, experiment_id: str) -> Experiment:
        body = self._t.get(f"{API}/experiments/get", {"experiment_id": experiment_id})
        return wire.experiment_in(body["experiment"])

    def get_experiment_by_name(self, name: str) -> Experiment:
        body = self._t.get(f"{API}/experiments/get-by-name", {"experiment_name": name})
        return wire.experiment_in(body["experiment"])

    def search_experiments(
        self,
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        page_token: str | None = None,
    ) -> Page[Experiment]:
        body = self._t.post(
            f"{API}/experiments/search",
            {
                "filter": filter_string or None,
                "order_by": list(order_by or []),
                "view_type": ViewType(view_type).name,
                "max_results": max_results,
                "page_token": page_token or None,
            },
        )
        items = [wire.experiment_in(e) for e in body.get("experiments", ())]
        return Page(items, body.get("next_page_token") or None)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        self._t.post(
            f"{API}/experiments/update", {"experiment_id": experiment_id, "new_name": new_name}
        )

    def delete_experiment(self, experiment_id: str) -> None:
        self._t.post(f"{API}/experiments/delete", {"experiment_id": experiment_id})

    def restore_experiment(self, experiment_id: str) -> None:
        self._t.post(f"{API}/experiments/restore", {"experiment_id": experiment_id})

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        self._t.post(
            f"{API}/experiments/set-experiment-tag",
            {"experiment_id": experiment_id, "key": key, "value": value},
        )

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        self._t.post(
            f"{API}/experiments/delete-experiment-tag", {"experiment_id": experiment_id, "key": key}
        )


class HttpRuns:
    """The run methods over `/api/2.0/mlflow/runs/...` and `/metrics/...`."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create_run(
        self,
        experiment_id: str,
        *,
        user_id: str | None = None,
        run_name: str | None = None,
        start_time: int | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> Run:
        body = self._t.post(
            f"{API}/runs/create",
            {
                "experiment_id": experiment_id,
                "user_id": user_id,
                "run_name": run_name,
                "start_time": start_time,
                "tags": mlflow_json.key_values(tags or {}),
            },
        )
        return wire.run_in(body["run"])

    def get_run(self, run_id: str) -> Run:
        body = self._t.get(f"{API}/runs/get", {"run_id": run_id, "run_uuid": run_id})
        return wire.run_in(body["run"])

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | str | None = None,
        end_time: int | None = None,
        run_name: str | None = None,
    ) -> RunInfo:
        body = self._t.post(
            f"{API}/runs/update",
            {
                "run_id": run_id,
                "run_uuid": run_id,
                "end_time": end_time,
                "status": None if status is None else str(status),
                "run_name": run_name or None,
            },
        )
        return wire.run_info_in(body["run_info"])

    def delete_run(self, run_id: str) -> None:
        self._t.post(f"{API}/runs/delete", {"run_id": run_id})

    def restore_run(self, run_id: str) -> None:
        self._t.post(f"{API}/runs/restore", {"run_id": run_id})

    def log_metric(
        self, run_id: str, key: str, value: float, timestamp: int, step: int = 0
    ) -> None:
        metric = mlflow_json.metric(Metric(key=key, value=value, timestamp=timestamp, step=step))
        self._t.post(f"{API}/runs/log-metric", {"run_id": run_id, "run_uuid": run_id, **metric})

    def log_param(self, run_id: str, key: str, value: str) -> None:
        self._t.post(
            f"{API}/runs/log-parameter",
            {"run_id": run_id, "run_uuid": run_id, "key": key, "value": value},
        )

    def set_tag(self, run_id: str, key: str, value: str) -> None:
        self._t.post(
            f"{API}/runs/set-tag",
            {"run_id": run_id, "run_uuid": run_id, "key": key, "value": value},
        )

    def delete_tag(self, run_id: str, key: str) -> None:
        self._t.post(f"{API}/runs/delete-tag", {"run_id": run_id, "key": key})

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric] = (),
        params: Sequence[Param] = (),
        tags: Sequence[RunTag] = (),
        model_metrics: Sequence[LoggedModelMetric] = (),
    ) -> None:
        self._t.post(
            f"{API}/runs/log-batch",
            {
                "run_id": run_id,
                "metrics": batch_metrics(metrics, model_metrics),
                "params": [{"key": p.key, "value": p.value} for p in params],
                "tags": [{"key": t.key, "value": t.value} for t in tags],
            },
        )

    def get_metric_history(
        self,
        run_id: str,
        key: str,
        *,
        max_results: int | None = None,
        page_token: str | None = None,
    ) -> Page[Metric]:
        body = self._t.get(
            f"{API}/metrics/get-history",
            {
                "run_id": run_id,
                "run_uuid": run_id,
                "metric_key": key,
                "max_results": max_results,
                "page_token": page_token or None,
            },
        )
        items = [wire.metric_in(m) for m in body.get("metrics", ())]
        return Page(items, body.get("next_page_token") or None)

    def search_runs(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        run_view_type: ViewType = ViewType.ACTIVE_ONLY,
        max_results: int = 1000,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[Run]:
        body = self._t.post(
            f"{API}/runs/search",
            {
                "experiment_ids": list(experiment_ids),
                "filter": filter_string or None,
                "run_view_type": ViewType(run_view_type).name,
                "max_results": max_results,
                "order_by": list(order_by or []),
                "page_token": page_token or None,
            },
        )
        items = [wire.run_in(r) for r in body.get("runs", ())]
        return Page(items, body.get("next_page_token") or None)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput] = (),
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        body = {"run_id": run_id, "datasets": [mlflow_json.dataset_input(d) for d in datasets]}
        if models:
            body["models"] = model_inputs_json(models)
        self._t.post(f"{API}/runs/log-inputs", body)

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        self._t.post(
            f"{API}/runs/outputs", {"run_id": run_id, "models": model_outputs_json(models)}
        )
