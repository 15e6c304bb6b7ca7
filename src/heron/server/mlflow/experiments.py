"""MLflow REST: /experiments/* (create, get, search, rename, delete, restore, tags)."""

from __future__ import annotations

from heron import mlflow_json
from heron.server.mlflow import messages as m
from heron.server.wire import Endpoints, Fields, Json
from heron.services import ExperimentService
from heron.services.access import requires
from heron.web.routes import PolicyRoute


def routes(api: Endpoints, service: ExperimentService) -> list[PolicyRoute]:
    def create_experiment(f: Fields) -> Json:
        experiment_id = service.create_experiment(
            f.required_string("name"),
            artifact_location=f.string("artifact_location"),
            tags=f.key_values("tags"),
        )
        return {"experiment_id": experiment_id}

    def get_experiment(f: Fields) -> Json:
        experiment = service.get_experiment(f.required_string("experiment_id"))
        return {"experiment": mlflow_json.experiment(experiment)}

    def get_experiment_by_name(f: Fields) -> Json:
        experiment = service.get_experiment_by_name(f.required_string("experiment_name"))
        return {"experiment": mlflow_json.experiment(experiment)}

    def search_experiments(f: Fields) -> Json:
        max_results = f.int64("max_results")
        page = service.search_experiments(
            filter_string=f.string("filter"),
            order_by=f.strings("order_by"),
            view_type=m.view_type(f, "view_type"),
            max_results=1000 if max_results is None else max_results,
            page_token=f.string("page_token"),
        )
        body: Json = {}
        if page.items:
            body["experiments"] = [mlflow_json.experiment(e) for e in page]
        return m.with_page_token(body, page.next_page_token)

    def delete_experiment(f: Fields) -> Json:
        service.delete_experiment(f.required_string("experiment_id"))
        return {}

    def restore_experiment(f: Fields) -> Json:
        service.restore_experiment(f.required_string("experiment_id"))
        return {}

    def update_experiment(f: Fields) -> Json:
        experiment_id = f.required_string("experiment_id")
        new_name = f.string("new_name")
        if new_name is None:
            service.get_experiment(experiment_id)  # nothing to change; still 404 when missing
        else:
            service.rename_experiment(experiment_id, new_name)
        return {}

    def set_experiment_tag(f: Fields) -> Json:
        service.set_experiment_tag(
            f.required_string("experiment_id"),
            f.required_string("key"),
            f.required_string("value"),
        )
        return {}

    def delete_experiment_tag(f: Fields) -> Json:
        service.delete_experiment_tag(f.required_string("experiment_id"), f.required_string("key"))
        return {}

    read_one = requires("read", "experiment", "experiment_id")
    update_one = requires("update", "experiment", "experiment_id")
    delete_one = requires("delete", "experiment", "experiment_id")
    return [
        api.post("/experiments/create", create_experiment, requires("create", "experiment")),
        api.get("/experiments/get", get_experiment, read_one),
        api.get(
            "/experiments/get-by-name",
            get_experiment_by_name,
            requires("read", "experiment", "experiment_name"),
        ),
        api.post("/experiments/search", search_experiments, requires("read", "experiment")),
        api.get("/experiments/search", search_experiments, requires("read", "experiment")),
        api.post("/experiments/delete", delete_experiment, delete_one),
        api.post("/experiments/restore", restore_experiment, update_one),
        api.post("/experiments/update", update_experiment, update_one),
        api.post("/experiments/set-experiment-tag", set_experiment_tag, update_one),
        api.post("/experiments/delete-experiment-tag", delete_experiment_tag, update_one),
    ]
