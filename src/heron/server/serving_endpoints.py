"""The serving-endpoints REST API in Databricks' shape, under /api/2.0/serving-endpoints:
create, get, list, delete, update the configuration, patch the tags, set the AI gateway's
inference table, and Heron's rollback.

MLflow compat: `mlflow.deployments.get_deploy_client("databricks")` pointed at Heron calls
exactly these paths (its create and list calls end the path with a slash)."""

from __future__ import annotations

from heron.server import serving_json as sj
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.serving_endpoints import EndpointService
from heron.web.routes import PolicyRoute

PREFIX = "/api/2.0/serving-endpoints"


def routes(api: Endpoints, service: EndpointService) -> list[PolicyRoute]:
    def create_endpoint(f: Fields) -> Json:
        request = sj.parse_create(f.data)
        status = service.create_endpoint(
            request.name,
            request.config,
            tags=request.tags,
            inference_table=request.inference_table,
        )
        return sj.endpoint_json(status)

    def list_endpoints(f: Fields) -> Json:
        return {"endpoints": [sj.endpoint_json(s) for s in service.list_endpoints()]}

    def get_endpoint(f: Fields) -> Json:
        return sj.endpoint_json(service.get_endpoint(f.required_string("name")))

    def delete_endpoint(f: Fields) -> Json:
        service.delete_endpoint(f.required_string("name"))
        return {}

    def update_config(f: Fields) -> Json:
        name = f.required_string("name")
        data = {k: v for k, v in f.data.items() if k != "name"}
        config, capture = sj.parse_config(data)
        status = service.update_config(name, config)
        if capture is not None:
            service.set_inference_table(name, capture)
            status = service.get_endpoint(name)
        return sj.endpoint_json(status)

    def patch_tags(f: Fields) -> Json:
        add = sj.parse_tags(f.data.get("add_tags"), "add_tags")
        remove = sj.parse_tag_keys(f.data.get("delete_tags"), "delete_tags")
        return {"tags": sj.tags_json(service.update_tags(f.required_string("name"), add, remove))}

    def put_ai_gateway(f: Fields) -> Json:
        data = {k: v for k, v in f.data.items() if k != "name"}
        table = sj.parse_ai_gateway(data)
        return sj.ai_gateway_json(service.set_inference_table(f.required_string("name"), table))

    def rollback(f: Fields) -> Json:
        return sj.endpoint_json(service.rollback(f.required_string("name")))

    item = PREFIX + "/{name}"
    return [
        api.post(PREFIX, create_endpoint, requires("create", "serving_endpoint", "name")),
        api.post(PREFIX + "/", create_endpoint, requires("create", "serving_endpoint", "name")),
        api.get(PREFIX, list_endpoints, requires("read", "serving_endpoint")),
        api.get(PREFIX + "/", list_endpoints, requires("read", "serving_endpoint")),
        api.with_path("GET", item, get_endpoint, requires("read", "serving_endpoint", "name")),
        api.with_path(
            "DELETE", item, delete_endpoint, requires("delete", "serving_endpoint", "name")
        ),
        api.with_path(
            "PUT", item + "/config", update_config, requires("update", "serving_endpoint", "name")
        ),
        api.with_path(
            "PATCH", item + "/tags", patch_tags, requires("update", "serving_endpoint", "name")
        ),
        api.with_path(
            "PUT",
            item + "/ai-gateway",
            put_ai_gateway,
            requires("update", "serving_endpoint", "name"),
        ),
        api.with_path(
            "POST",
            item + "/rollback",
            rollback,
            requires("update", "serving_endpoint", "name"),
            strict_content_type=False,  # a POST with no body
        ),
    ]
