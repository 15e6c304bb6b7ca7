"""Serving endpoints over HTTP: Databricks' /api/2.0/serving-endpoints routes, read back into
the same entities the in-process service returns."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from heron.client.http.transport import Transport
from heron.entities.serving import (
    EndpointConfig,
    InferenceTableConfig,
    Replica,
    ReplicaState,
    ServedEntity,
    ServingEndpoint,
    TrafficRoute,
)
from heron.mlflow_json import Json
from heron.services.serving_state import EndpointStatus

API = "/api/2.0/serving-endpoints"


class HttpEndpoints:
    """The `EndpointApi` methods over a transport (`heron.client.http.transport.Transport`)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create_endpoint(
        self,
        name: str,
        config: EndpointConfig,
        *,
        tags: Mapping[str, str] | None = None,
        inference_table: InferenceTableConfig | None = None,
    ) -> EndpointStatus:
        body: Json = {"name": name, "config": config_out(config)}
        if tags:
            body["tags"] = [{"key": k, "value": v} for k, v in tags.items()]
        if inference_table is not None:
            body["ai_gateway"] = {"inference_table_config": table_out(inference_table)}
        return status_in(self._t.post(API, body))

    def get_endpoint(self, name: str) -> EndpointStatus:
        return status_in(self._t.get(_one(name), {}))

    def list_endpoints(self) -> list[EndpointStatus]:
        return [status_in(e) for e in self._t.get(API, {}).get("endpoints", ())]

    def delete_endpoint(self, name: str) -> None:
        self._t.send_json("DELETE", _one(name), {})

    def update_config(self, name: str, config: EndpointConfig) -> EndpointStatus:
        return status_in(self._t.send_json("PUT", _one(name) + "/config", config_out(config)))

    def rollback(self, name: str) -> EndpointStatus:
        return status_in(self._t.post(_one(name) + "/rollback", {}))

    def update_tags(
        self, name: str, add: Mapping[str, str], remove: Sequence[str]
    ) -> Mapping[str, str]:
        body = {
            "add_tags": [{"key": k, "value": v} for k, v in add.items()],
            "delete_tags": list(remove),
        }
        answer = self._t.send_json("PATCH", _one(name) + "/tags", body)
        return _tags_in(answer.get("tags"))

    def set_inference_table(self, name: str, config: InferenceTableConfig) -> InferenceTableConfig:
        body = {"inference_table_config": table_out(config)}
        answer = self._t.send_json("PUT", _one(name) + "/ai-gateway", body)
        return _table_in(answer.get("inference_table_config"))


def _one(name: str) -> str:
    return f"{API}/{urllib.parse.quote(name, safe='')}"


# -- writing a request ------------------------------------------------------------------


def config_out(config: EndpointConfig) -> Json:
    """A configuration as Databricks' `config` object (Heron's `entity_alias` and
    `shadow_routes` ride in it)."""
    entities = []
    for e in config.served_entities:
        entity: Json = {
            "name": e.name,
            "entity_name": e.entity_name,
            "workload_size": e.workload_size,
            "scale_to_zero_enabled": e.scale_to_zero_enabled,
        }
        if e.entity_version is not None:
            entity["entity_version"] = e.entity_version
        if e.entity_alias is not None:
            entity["entity_alias"] = e.entity_alias
        if e.environment_vars:
            entity["environment_vars"] = dict(e.environment_vars)
        entities.append(entity)
    body: Json = {"served_entities": entities}
    traffic: Json = {}
    if config.routes:
        traffic["routes"] = _routes_out(config.routes)
    if config.shadow_routes:
        traffic["shadow_routes"] = _routes_out(config.shadow_routes)
    if traffic:
        body["traffic_config"] = traffic
    return body


def _routes_out(routes: Sequence[TrafficRoute]) -> list[Json]:
    return [
        {"served_entity_name": r.served_entity_name, "traffic_percentage": r.traffic_percentage}
        for r in routes
    ]


def table_out(table: InferenceTableConfig) -> Json:
    body: Json = {"enabled": table.enabled, "sampling_fraction": table.sampling_fraction}
    for what in ("catalog_name", "schema_name", "table_name_prefix"):
        if getattr(table, what) is not None:
            body[what] = getattr(table, what)
    return body


# -- reading an answer ------------------------------------------------------------------


def status_in(body: Json) -> EndpointStatus:
    """An endpoint as the server answers it. The newest configuration is the pending one
    while an update is in progress, else the one served; a followed alias's entity carries
    no `entity_version` (the version it resolves to is in `versions`), as in process."""
    endpoint_id = str(body.get("id", ""))
    state = body.get("state") or {}
    served = _config_in(body["config"]) if body.get("config") else None
    pending = _config_in(body["pending_config"]) if body.get("pending_config") else None
    newest_json = body.get("pending_config") or body.get("config") or {}
    newest = pending or served or EndpointConfig(config_version=0, served_entities=(), routes=())
    endpoint = ServingEndpoint(
        endpoint_id=endpoint_id,
        name=str(body.get("name", "")),
        creator=str(body.get("creator", "")),
        creation_timestamp=int(body.get("creation_timestamp", 0)),
        last_updated_timestamp=int(body.get("last_updated_timestamp", 0)),
        config=newest,
        tags=_tags_in(body.get("tags")),
        inference_table=_table_in((body.get("ai_gateway") or {}).get("inference_table_config")),
    )
    versions = {
        str(e.get("name", "")): (str(e["entity_version"]) if e.get("entity_version") else None)
        for e in newest_json.get("served_entities", ())
    }
    return EndpointStatus(
        endpoint=endpoint,
        ready=state.get("ready") == "READY",
        config_update=str(state.get("config_update", "")),
        served_config=served,
        pending_config=pending,
        versions=versions,
        replicas=[_replica_in(r, endpoint_id) for r in body.get("replicas", ())],
        message=str(state.get("message", "")),
    )


def _config_in(body: Json) -> EndpointConfig:
    entities = [_entity_in(e) for e in body.get("served_entities", ())]
    traffic = body.get("traffic_config") or {}
    created = body.get("start_time") or next(
        (e.get("creation_timestamp") for e in body.get("served_entities", ())), 0
    )
    return EndpointConfig(
        config_version=int(body.get("config_version", 0)),
        served_entities=tuple(entities),
        routes=tuple(_routes_in(traffic.get("routes"))),
        shadow_routes=tuple(_routes_in(traffic.get("shadow_routes"))),
        creation_timestamp=int(created or 0),
    )


def _entity_in(body: Json) -> ServedEntity:
    alias = body.get("entity_alias")
    return ServedEntity(
        name=str(body.get("name", "")),
        entity_name=str(body.get("entity_name", "")),
        entity_version=None if alias is not None else (body.get("entity_version") or None),
        entity_alias=alias,
        workload_size=str(body.get("workload_size") or "Small"),
        scale_to_zero_enabled=bool(body.get("scale_to_zero_enabled", False)),
    )


def _routes_in(routes: Any) -> list[TrafficRoute]:
    return [
        TrafficRoute(
            served_entity_name=str(r.get("served_entity_name") or r.get("served_model_name")),
            traffic_percentage=int(r.get("traffic_percentage", 0)),
        )
        for r in routes or ()
    ]


def _tags_in(tags: Any) -> dict[str, str]:
    return {str(t["key"]): str(t.get("value", "")) for t in tags or ()}


def _table_in(body: Any) -> InferenceTableConfig:
    if not body:
        return InferenceTableConfig()
    return InferenceTableConfig(
        enabled=bool(body.get("enabled", False)),
        catalog_name=body.get("catalog_name"),
        schema_name=body.get("schema_name"),
        table_name_prefix=body.get("table_name_prefix"),
        sampling_fraction=float(body.get("sampling_fraction", 1.0)),
    )


def _replica_in(body: Json, endpoint_id: str) -> Replica:
    """A replica as the API shows it: never its URL or token."""
    return Replica(
        replica_id=str(body.get("replica_id", "")),
        endpoint_id=endpoint_id,
        url="",
        token="",
        state=ReplicaState(body.get("state") or "LOADING"),
        config_version=int(body.get("config_version", 0)),
        versions={str(k): str(v) for k, v in (body.get("versions") or {}).items()},
        host=str(body.get("host", "")),
        pid=int(body.get("pid", 0)),
        message=str(body.get("message", "")),
        started_at=int(body.get("started_at", 0)),
        heartbeat_at=int(body.get("heartbeat_at", 0)),
    )
