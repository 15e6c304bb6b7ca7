"""MLflow REST: /registered-models/* (create, get, search, rename, update, delete, tags,
aliases, latest versions)."""

from __future__ import annotations

from heron import mlflow_json
from heron.server.mlflow import messages as m
from heron.server.wire import Endpoints, Fields, Json, missing
from heron.services.access import requires
from heron.services.registry import RegistryService
from heron.web.routes import PolicyRoute


def routes(api: Endpoints, service: RegistryService) -> list[PolicyRoute]:
    def create(f: Fields) -> Json:
        model = service.create_registered_model(
            f.required_string("name"),
            tags=f.key_values("tags"),
            description=f.string("description"),
            deployment_job_id=f.string("deployment_job_id"),
        )
        return {"registered_model": mlflow_json.registered_model(model)}

    def get(f: Fields) -> Json:
        model = service.get_registered_model(f.required_string("name"))
        return {"registered_model": mlflow_json.registered_model(model)}

    def search(f: Fields) -> Json:
        max_results = f.int64("max_results")
        page = service.search_registered_models(
            filter_string=f.string("filter"),
            max_results=100 if max_results is None else max_results,
            order_by=f.strings("order_by"),
            page_token=f.string("page_token"),
        )
        body: Json = {}
        if page.items:
            body["registered_models"] = [mlflow_json.registered_model(x) for x in page]
        return m.with_page_token(body, page.next_page_token)

    def rename(f: Fields) -> Json:
        new_name = f.string("new_name")
        if not new_name:
            raise missing("new_name")
        model = service.rename_registered_model(f.required_string("name"), new_name)
        return {"registered_model": mlflow_json.registered_model(model)}

    def update(f: Fields) -> Json:
        model = service.update_registered_model(
            f.required_string("name"),
            description=f.string("description"),
            deployment_job_id=f.string("deployment_job_id"),
        )
        return {"registered_model": mlflow_json.registered_model(model)}

    def delete(f: Fields) -> Json:
        service.delete_registered_model(f.required_string("name"))
        return {}

    def latest_versions(f: Fields) -> Json:
        versions = service.get_latest_versions(f.required_string("name"), f.strings("stages"))
        body: Json = {}
        if versions:
            body["model_versions"] = mlflow_json.model_versions(versions)
        return body

    def set_tag(f: Fields) -> Json:
        service.set_registered_model_tag(
            f.required_string("name"), f.required_string("key"), f.required_string("value")
        )
        return {}

    def delete_tag(f: Fields) -> Json:
        service.delete_registered_model_tag(f.required_string("name"), f.required_string("key"))
        return {}

    def set_alias(f: Fields) -> Json:
        service.set_registered_model_alias(
            f.required_string("name"), f.required_string("alias"), f.required_string("version")
        )
        return {}

    def delete_alias(f: Fields) -> Json:
        service.delete_registered_model_alias(f.required_string("name"), f.required_string("alias"))
        return {}

    def get_by_alias(f: Fields) -> Json:
        version = service.get_model_version_by_alias(
            f.required_string("name"), f.required_string("alias")
        )
        return {"model_version": mlflow_json.model_version(version)}

    base = "/registered-models"
    reads = requires("read", "registered_model", "name")
    updates = requires("update", "registered_model", "name")
    deletes = requires("delete", "registered_model", "name")
    return [
        api.post(f"{base}/create", create, requires("create", "registered_model", "name")),
        api.get(f"{base}/get", get, reads),
        api.get(f"{base}/search", search, requires("read", "registered_model")),
        api.post(f"{base}/rename", rename, updates),
        api.route("PATCH", f"{base}/update", update, updates),
        api.route("DELETE", f"{base}/delete", delete, deletes),
        api.get(f"{base}/get-latest-versions", latest_versions, reads),
        api.post(f"{base}/get-latest-versions", latest_versions, reads),
        api.post(f"{base}/set-tag", set_tag, updates),
        api.route("DELETE", f"{base}/delete-tag", delete_tag, updates),
        api.post(f"{base}/alias", set_alias, updates),
        api.route("DELETE", f"{base}/alias", delete_alias, updates),
        api.get(f"{base}/alias", get_by_alias, reads),
    ]
