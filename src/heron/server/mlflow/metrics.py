"""MLflow REST: /metrics/* (one run's metric history, and several runs' for the UI charts)."""

from __future__ import annotations

from heron import mlflow_json
from heron.server.mlflow import messages as m
from heron.server.mlflow.runs import run_id
from heron.server.wire import Endpoints, Fields, Json
from heron.services import RunService
from heron.services.access import requires
from heron.web.routes import PolicyRoute

UI_SAMPLED_POINTS = 320
MAX_BULK_POINTS = 25000


def routes(api: Endpoints, service: RunService) -> list[PolicyRoute]:
    def get_metric_history(f: Fields) -> Json:
        page = service.get_metric_history(
            run_id(f),
            f.required_string("metric_key"),
            max_results=f.int32("max_results"),
            page_token=f.string("page_token"),
        )
        body: Json = {}
        if page.items:
            body["metrics"] = mlflow_json.metrics(page.items)
        return m.with_page_token(body, page.next_page_token)

    def get_metric_history_bulk_interval(f: Fields) -> Json:
        max_results = f.int32("max_results")
        points = service.get_metric_history_bulk_interval(
            f.strings("run_ids"),
            f.required_string("metric_key"),
            max_results=UI_SAMPLED_POINTS if max_results is None else max_results,
            start_step=f.int32("start_step"),
            end_step=f.int32("end_step"),
        )
        return {"metrics": [m.metric_with_run_id(p) for p in points]} if points else {}

    return [
        api.get("/metrics/get-history", get_metric_history, requires("read", "run", "run_id")),
        api.get(
            "/metrics/get-history-bulk-interval",
            get_metric_history_bulk_interval,
            requires("read", "run", "run_ids"),
        ),
    ]


def ajax_routes(api: Endpoints, service: RunService) -> list[PolicyRoute]:
    def get_metric_history_bulk(f: Fields) -> Json:
        # MLflow compat: UI-only route; run ids come as repeated `run_id` keys, and the answer
        # always has a `metrics` list (it is plain JSON, not a proto message).
        max_results = f.int64("max_results")
        points = service.get_metric_history_bulk(
            f.strings("run_id"),
            f.required_string("metric_key"),
            max_results=MAX_BULK_POINTS if max_results is None else max_results,
        )
        return {"metrics": [m.metric_with_run_id(p) for p in points]}

    read_runs = requires("read", "run", "run_id")  # repeated: several runs
    return [api.get("/metrics/get-history-bulk", get_metric_history_bulk, read_runs)]
