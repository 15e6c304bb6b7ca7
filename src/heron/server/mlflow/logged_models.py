"""MLflow REST: /logged-models (MLflow 3's LoggedModel API) and a model's artifact listings.

Most of these routes name the model in the path (`/logged-models/{model_id}`); like every
proto field, the path parameter is read together with the body or the query string."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from heron import mlflow_json
from heron.errors import BadRequest
from heron.server.mlflow.artifacts import download, files_json, listing
from heron.server.wire import Endpoints, Fields, Json, missing
from heron.services.access import requires
from heron.services.artifacts import ArtifactService
from heron.services.logged_models import LoggedModelService
from heron.store.artifacts import paths
from heron.web.routes import PolicyRoute

# MLflow compat: the proto leaves max_results unset at 50 on the wire (the store's own is 100).
DEFAULT_WIRE_PAGE = 50
STATUSES = {"LOGGED_MODEL_PENDING": 1, "LOGGED_MODEL_READY": 2, "LOGGED_MODEL_UPLOAD_FAILED": 3}
_STATUS_BY_NUMBER = {n: name for name, n in STATUSES.items()}
MODEL_PATH = "/logged-models/{model_id}"


def routes(
    api: Endpoints, service: LoggedModelService, artifacts: ArtifactService
) -> list[PolicyRoute]:
    """The logged-model routes (under both prefixes)."""

    def create_logged_model(f: Fields) -> Json:
        model = service.create_logged_model(
            f.required_string("experiment_id"),
            name=f.string("name") or None,
            source_run_id=f.string("source_run_id") or None,
            model_type=f.string("model_type") or None,
            tags=f.key_values("tags"),
            params=f.key_values("params"),
        )
        return {"model": mlflow_json.logged_model(model)}

    def get_logged_model(f: Fields) -> Json:
        model = service.get_logged_model(
            f.required_string("model_id"), allow_deleted=bool(f.boolean("allow_deleted"))
        )
        return {"model": mlflow_json.logged_model(model)}

    def finalize_logged_model(f: Fields) -> Json:
        status = f.enum("status", STATUSES)
        if status is None:
            raise missing("status")
        model = service.finalize_logged_model(
            f.required_string("model_id"), _STATUS_BY_NUMBER[status]
        )
        return {"model": mlflow_json.logged_model(model)}

    def delete_logged_model(f: Fields) -> Json:
        service.delete_logged_model(f.required_string("model_id"))
        return {}

    def set_logged_model_tags(f: Fields) -> Json:
        model_id = f.required_string("model_id")
        service.set_logged_model_tags(model_id, f.key_values("tags"))
        return {"model": mlflow_json.logged_model(service.get_logged_model(model_id))}

    def delete_logged_model_tag(f: Fields) -> Json:
        service.delete_logged_model_tag(f.required_string("model_id"), f.required_string("tag_key"))
        return {}

    def log_logged_model_params(f: Fields) -> Json:
        service.log_logged_model_params(f.required_string("model_id"), f.key_values("params"))
        return {}

    def search_logged_models(f: Fields) -> Json:
        max_results = f.int32("max_results")
        page = service.search_logged_models(
            f.strings("experiment_ids"),
            filter_string=f.string("filter"),
            datasets=[
                {
                    "dataset_name": d.string("dataset_name"),
                    "dataset_digest": d.string("dataset_digest"),
                }
                for d in f.messages("datasets")
            ],
            max_results=DEFAULT_WIRE_PAGE if max_results is None else max_results or 100,
            order_by=[
                {
                    "field_name": o.required_string("field_name"),
                    "ascending": o.boolean("ascending"),
                    "dataset_name": o.string("dataset_name"),
                    "dataset_digest": o.string("dataset_digest"),
                }
                for o in f.messages("order_by")
            ],
            page_token=f.string("page_token"),
        )
        body: Json = {}
        if page.items:
            body["models"] = [mlflow_json.logged_model(model) for model in page]
        if page.next_page_token:
            body["next_page_token"] = page.next_page_token
        return body

    def list_logged_model_artifacts(f: Fields) -> Json:
        root_uri = service.get_logged_model(f.required_string("model_id")).artifact_location
        path = f.string("artifact_directory_path") or ""
        items, token = listing(artifacts, root_uri, path, f.string("page_token"))
        answer = files_json(items, token)
        answer["root_uri"] = root_uri
        return answer

    # Listing may wait on S3: never on the event loop.
    threaded = Endpoints(api.max_request_bytes, inline=False)
    model = MODEL_PATH
    reads = requires("read", "logged_model", "model_id")
    updates = requires("update", "logged_model", "model_id")
    return [
        api.post(
            "/logged-models",
            create_logged_model,
            requires("update", "experiment", "experiment_id"),
        ),
        api.post(
            "/logged-models/search",
            search_logged_models,
            requires("read", "experiment", "experiment_ids"),
        ),
        api.with_path("GET", model, get_logged_model, reads),
        api.with_path("PATCH", model, finalize_logged_model, updates),
        api.with_path(
            "DELETE", model, delete_logged_model, requires("delete", "logged_model", "model_id")
        ),
        api.with_path("PATCH", f"{model}/tags", set_logged_model_tags, updates),
        api.with_path("DELETE", model + "/tags/{tag_key:path}", delete_logged_model_tag, updates),
        api.with_path("POST", f"{model}/params", log_logged_model_params, updates),
        threaded.with_path(
            "GET", f"{model}/artifacts/directories", list_logged_model_artifacts, reads
        ),
    ]


def ajax_routes(service: LoggedModelService, artifacts: ArtifactService) -> list[PolicyRoute]:
    """The UI's GET /logged-models/{model_id}/artifacts/files?artifact_file_path=<path>."""

    async def get_logged_model_artifact(request: Request) -> Response:
        file_path = request.query_params.get("artifact_file_path")
        if not file_path:
            # MLflow compat: BAD_REQUEST, not INVALID_PARAMETER_VALUE, for this one parameter.
            raise BadRequest('Request must include the "artifact_file_path" query parameter.')
        model_id = request.path_params["model_id"]
        model = await run_in_threadpool(service.get_logged_model, model_id)
        path = paths.clean(file_path)
        chunks = await run_in_threadpool(artifacts.read_artifact, model.artifact_location, path)
        return download(path, chunks)

    return [
        PolicyRoute(
            f"{MODEL_PATH}/artifacts/files",
            get_logged_model_artifact,
            methods=["GET"],
            policy=requires("read", "logged_model", "model_id"),
        )
    ]
