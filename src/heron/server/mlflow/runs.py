"""MLflow REST: /runs/* (lifecycle, search, and logging metrics, params, tags and inputs)."""

from __future__ import annotations

from heron import mlflow_json
from heron.entities import LoggedModelInput, LoggedModelOutput, Param, RunStatus
from heron.server.mlflow import messages as m
from heron.server.wire import Endpoints, Fields, Json, missing
from heron.services import RunService
from heron.services.access import requires
from heron.web.routes import PolicyRoute

RUN_STATUSES = {"RUNNING": 1, "SCHEDULED": 2, "FINISHED": 3, "FAILED": 4, "KILLED": 5}
_STATUS_BY_NUMBER = {n: RunStatus(name) for name, n in RUN_STATUSES.items()}


def run_id(f: Fields) -> str:
    """MLflow compat: runs are named by `run_id` or its deprecated twin `run_uuid`; the client
    sends both on many calls."""
    value = f.string("run_id") or f.string("run_uuid")
    if not value:
        raise missing("run_id")
    return value


def routes(api: Endpoints, service: RunService) -> list[PolicyRoute]:
    def create_run(f: Fields) -> Json:
        created = service.create_run(
            f.required_string("experiment_id"),
            user_id=f.string("user_id"),
            run_name=f.string("run_name"),
            start_time=f.int64("start_time"),
            tags=f.key_values("tags"),
        )
        return {"run": mlflow_json.run(created)}

    def update_run(f: Fields) -> Json:
        status = f.enum("status", RUN_STATUSES)
        info = service.update_run(
            run_id(f),
            status=None if status is None else _STATUS_BY_NUMBER[status],
            end_time=f.int64("end_time"),
            run_name=f.string("run_name"),
        )
        return {
            "run_info": mlflow_json.run_info(info)
        }  # MLflow compat: the key is run_info, not run

    def delete_run(f: Fields) -> Json:
        service.delete_run(f.required_string("run_id"))
        return {}

    def restore_run(f: Fields) -> Json:
        service.restore_run(f.required_string("run_id"))
        return {}

    def get_run(f: Fields) -> Json:
        return {"run": mlflow_json.run(service.get_run(run_id(f)))}

    def search_runs(f: Fields) -> Json:
        max_results = f.int32("max_results")
        page = service.search_runs(
            f.strings("experiment_ids"),
            filter_string=f.string("filter"),
            run_view_type=m.view_type(f, "run_view_type"),
            max_results=1000 if max_results is None else max_results,
            order_by=f.strings("order_by"),
            page_token=f.string("page_token"),
        )
        body: Json = {}
        if page.items:
            body["runs"] = [mlflow_json.run(r) for r in page]
        return m.with_page_token(body, page.next_page_token)

    def log_metric(f: Fields) -> Json:
        point = m.read_metric(f)
        link = m.read_model_metric(f, point)
        service.log_batch(run_id(f), metrics=[point], model_metrics=[link] if link else ())
        return {}

    def log_parameter(f: Fields) -> Json:
        service.log_param(run_id(f), f.required_string("key"), f.required_string("value"))
        return {}

    def set_tag(f: Fields) -> Json:
        service.set_tag(run_id(f), f.required_string("key"), f.required_string("value"))
        return {}

    def delete_tag(f: Fields) -> Json:
        service.delete_tag(f.required_string("run_id"), f.required_string("key"))
        return {}

    def log_batch(f: Fields) -> Json:
        metrics = m.read_metrics(f)
        service.log_batch(
            run_id(f),
            metrics=metrics,
            model_metrics=m.read_model_metrics(f),
            params=[
                Param(key=p.required_string("key"), value=p.required_string("value"))
                for p in f.messages("params")
            ],
            tags=m.read_tags(f.messages("tags")),
        )
        return {}

    def log_inputs(f: Fields) -> Json:
        datasets = [m.read_dataset_input(d) for d in f.messages("datasets")]
        models = [
            LoggedModelInput(model_id=i.required_string("model_id")) for i in f.messages("models")
        ]
        service.log_inputs(f.required_string("run_id"), datasets, models)
        return {}

    def log_outputs(f: Fields) -> Json:
        if f.data.get("models") is None:
            raise missing("models")
        models = [
            LoggedModelOutput(model_id=o.required_string("model_id"), step=o.int64("step") or 0)
            for o in f.messages("models")
        ]
        service.log_outputs(f.required_string("run_id"), models)
        return {}

    # MLflow compat: a run is named by run_id or run_uuid; the policy names the first.
    update_one = requires("update", "run", "run_id")
    return [
        api.post("/runs/create", create_run, requires("create", "experiment", "experiment_id")),
        api.post("/runs/update", update_run, update_one),
        api.post("/runs/delete", delete_run, requires("delete", "run", "run_id")),
        api.post("/runs/restore", restore_run, update_one),
        api.get("/runs/get", get_run, requires("read", "run", "run_id")),
        api.post("/runs/search", search_runs, requires("read", "experiment", "experiment_ids")),
        api.post("/runs/log-metric", log_metric, update_one),
        api.post("/runs/log-parameter", log_parameter, update_one),
        api.post("/runs/set-tag", set_tag, update_one),
        api.post("/runs/delete-tag", delete_tag, update_one),
        api.post("/runs/log-batch", log_batch, update_one),
        api.post("/runs/log-inputs", log_inputs, update_one),
        api.post("/runs/outputs", log_outputs, update_one),  # MLflow compat: no "log-" here
    ]
