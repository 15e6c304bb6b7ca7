"""MLflow REST: /model-versions/* (create, get, search, update, stages, delete, tags,
download URI)."""

from __future__ import annotations

from heron import mlflow_json
from heron.server.mlflow import messages as m
from heron.server.wire import Endpoints, Fields, Json, missing
from heron.services.access import requires
from heron.services.registry import MAX_VERSION_SEARCH, RegistryService
from heron.web.routes import PolicyRoute


def routes(api: Endpoints, service: RegistryService) -> list[PolicyRoute]:
    def create(f: Fields) -> Json:
        version = service.create_model_version(
            f.required_string("name"),
            f.required_string("source"),
            run_id=f.string("run_id"),
            tags=f.key_values("tags"),
            run_link=f.string("run_link"),
            description=f.string("description"),
            model_id=f.string("model_id"),
        )
        return {"model_version": mlflow_json.model_version(version)}

    def get(f: Fields) -> Json:
        version = service.get_model_version(f.required_string("name"), f.required_string("version"))
        return {"model_version": mlflow_json.model_version(version)}

    def search(f: Fields) -> Json:
        max_results = f.int64("max_results")
        page = service.search_model_versions(
            filter_string=f.string("filter"),
            max_results=MAX_VERSION_SEARCH if max_results is None else max_results,
            order_by=f.strings("order_by"),
            page_token=f.string("page_token"),
        )
        body: Json = {}
        if page.items:
            body["model_versions"] = mlflow_json.model_versions(page.items)
        return m.with_page_token(body, page.next_page_token)

    def update(f: Fields) -> Json:
        version = service.update_model_version(
            f.required_string("name"),
            f.required_string("version"),
            description=f.string("description"),
        )
        return {"model_version": mlflow_json.model_version(version)}

    def transition_stage(f: Fields) -> Json:
        archive = f.boolean("archive_existing_versions")
        if archive is None:
            raise missing("archive_existing_versions")
        version = service.transition_model_version_stage(
            f.required_string("name"),
            f.required_string("version"),
            f.required_string("stage"),
            archive_existing_versions=archive,
        )
        return {"model_version": mlflow_json.model_version(version)}

    def delete(f: Fields) -> Json:
        service.delete_model_version(f.required_string("name"), f.required_string("version"))
        return {}

    def download_uri(f: Fields) -> Json:
        uri = service.get_model_version_download_uri(
            f.required_string("name"), f.required_string("version")
        )
        return {"artifact_uri": uri}

    def set_tag(f: Fields) -> Json:
        service.set_model_version_tag(
            f.required_string("name"),
            f.required_string("version"),
            f.required_string("key"),
            f.required_string("value"),
        )
        return {}

    def delete_tag(f: Fields) -> Json:
        service.delete_model_version_tag(
            f.required_string("name"), f.required_string("version"), f.required_string("key")
        )
        return {}

    base = "/model-versions"
    # A version is named by its registered model's name (and its number).
    reads = requires("read", "registered_model", "name")
    updates = requires("update", "registered_model", "name")
    deletes = requires("delete", "registered_model", "name")
    return [
        api.post(f"{base}/create", create, updates),
        api.get(f"{base}/get", get, reads),
        api.get(f"{base}/search", search, requires("read", "registered_model")),
        api.route("PATCH", f"{base}/update", update, updates),
        api.post(f"{base}/transition-stage", transition_stage, updates),
        api.route("DELETE", f"{base}/delete", delete, deletes),
        api.get(f"{base}/get-download-uri", download_uri, reads),
        api.post(f"{base}/set-tag", set_tag, updates),
        api.route("DELETE", f"{base}/delete-tag", delete_tag, updates),
    ]
