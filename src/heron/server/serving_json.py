"""Databricks' serving-endpoints JSON: reading a configuration, tags and the AI gateway's
inference table from a request, and writing an endpoint as Databricks answers it.

Heron's additions ride in the same objects: `entity_alias` on a served entity (follow an
alias instead of a fixed version), `traffic_config.shadow_routes` (mirror a share of the
requests to an entity and compare its answers), `sampling_fraction` on the inference table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heron.entities.serving import (
    EndpointConfig,
    InferenceTableConfig,
    ServedEntity,
    TrafficRoute,
)
from heron.errors import InvalidParameter
from heron.services.serving_endpoints import default_entity_name
from heron.services.serving_state import ConfigUpdate, EndpointStatus

Json = dict[str, Any]

_ENTITY_KEYS = frozenset(
    {"name", "entity_name", "entity_version", "entity_alias", "workload_size",
     "scale_to_zero_enabled", "environment_vars", "workload_type"}
)  # fmt: skip
_MODEL_KEYS = frozenset(
    {"name", "model_name", "model_version", "workload_size", "scale_to_zero_enabled",
     "environment_vars", "workload_type"}
)  # fmt: skip
_CONFIG_KEYS = frozenset(
    {"served_entities", "served_models", "traffic_config", "auto_capture_config"}
)
_TABLE_KEYS = frozenset(
    {"enabled", "catalog_name", "schema_name", "table_name_prefix", "sampling_fraction"}
)


@dataclass(frozen=True, slots=True)
class CreateRequest:
    name: str
    config: EndpointConfig
    tags: dict[str, str]
    inference_table: InferenceTableConfig | None


_CREATE_KEYS = frozenset(
    {"name", "config", "tags", "ai_gateway", "route_optimized", "rate_limits", "description",
     "budget_policy_id"}
)  # fmt: skip


def parse_create(data: Mapping[str, Any]) -> CreateRequest:
    """The body of `POST /api/2.0/serving-endpoints`."""
    body = _object(dict(data), "request", _CREATE_KEYS)
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidParameter("Missing value for required parameter 'name'")
    if body.get("config") is None:
        raise InvalidParameter("Missing value for required parameter 'config'")
    if body.get("rate_limits"):
        raise InvalidParameter("rate_limits are not supported by Heron")
    config, table = parse_config(body["config"])
    if body.get("ai_gateway") is not None:
        table = parse_ai_gateway(body["ai_gateway"])
    return CreateRequest(name, config, parse_tags(body.get("tags"), "tags"), table)


def _object(value: Any, where: str, allowed: frozenset[str]) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise InvalidParameter(f"{where} must be an object, got {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise InvalidParameter(f"{where} has unknown fields {unknown}: use {sorted(allowed)}")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidParameter(f"{where} must be a list, got {type(value).__name__}")
    return value


def _string(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise InvalidParameter(f"{where} must be a string, got {type(value).__name__}")


def _version(value: Any, where: str) -> str | None:
    # Databricks' clients send the version as a string; a JSON number means the same.
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return str(value)
    return _string(value, where)


def _bool(value: Any, where: str, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    raise InvalidParameter(f"{where} must be true or false, got {type(value).__name__}")


def _percentage(value: Any, where: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise InvalidParameter(f"{where} must be an integer between 0 and 100")


def parse_config(
    value: Any, where: str = "config"
) -> tuple[EndpointConfig, InferenceTableConfig | None]:
    """An endpoint configuration (`served_entities`, or the legacy `served_models`, and
    `traffic_config`), and the legacy `auto_capture_config` when it is given."""
    body = _object(value, where, _CONFIG_KEYS)
    entities = [
        _entity(e, f"{where}.served_entities[{i}]")
        for i, e in enumerate(_list(body.get("served_entities"), f"{where}.served_entities"))
    ]
    models = _list(body.get("served_models"), f"{where}.served_models")
    if entities and models:
        raise InvalidParameter(f"{where}: give served_entities or served_models, not both")
    entities += [_model(m, f"{where}.served_models[{i}]") for i, m in enumerate(models)]
    traffic = body.get("traffic_config")
    routes: list[TrafficRoute] = []
    shadows: list[TrafficRoute] = []
    if traffic is not None:
        traffic = _object(
            traffic, f"{where}.traffic_config", frozenset({"routes", "shadow_routes"})
        )
        routes = _routes(traffic.get("routes"), f"{where}.traffic_config.routes")
        shadows = _routes(traffic.get("shadow_routes"), f"{where}.traffic_config.shadow_routes")
    capture = body.get("auto_capture_config")
    table = (
        None if capture is None else parse_inference_table(capture, f"{where}.auto_capture_config")
    )
    config = EndpointConfig(
        config_version=0, served_entities=tuple(entities), routes=tuple(routes),
        shadow_routes=tuple(shadows),
    )  # fmt: skip
    return config, table


def _entity(value: Any, where: str) -> ServedEntity:
    if isinstance(value, dict) and "external_model" in value:
        raise InvalidParameter(
            f"{where}: external models are not served by Heron; serve a registered model "
            "(entity_name and entity_version or entity_alias)"
        )
    body = _object(value, where, _ENTITY_KEYS)
    name = _string(body.get("entity_name"), f"{where}.entity_name") or ""
    version = _version(body.get("entity_version"), f"{where}.entity_version")
    alias = _string(body.get("entity_alias"), f"{where}.entity_alias")
    return _served(body, where, name, version, alias)


def _model(value: Any, where: str) -> ServedEntity:
    body = _object(value, where, _MODEL_KEYS)
    name = _string(body.get("model_name"), f"{where}.model_name") or ""
    version = _version(body.get("model_version"), f"{where}.model_version")
    return _served(body, where, name, version, None)


def _served(
    body: Mapping[str, Any], where: str, name: str, version: str | None, alias: str | None
) -> ServedEntity:
    env = body.get("environment_vars") or {}
    if not isinstance(env, dict) or not all(isinstance(v, str) for v in env.values()):
        raise InvalidParameter(f"{where}.environment_vars must be an object of strings")
    return ServedEntity(
        name=_string(body.get("name"), f"{where}.name")
        or default_entity_name(name, version, alias),
        entity_name=name,
        entity_version=version,
        entity_alias=alias,
        workload_size=_string(body.get("workload_size"), f"{where}.workload_size") or "Small",
        scale_to_zero_enabled=_bool(
            body.get("scale_to_zero_enabled"), f"{where}.scale_to_zero_enabled"
        ),
        environment_vars=env,
    )


def _routes(value: Any, where: str) -> list[TrafficRoute]:
    routes = []
    for i, item in enumerate(_list(value, where)):
        at = f"{where}[{i}]"
        body = _object(
            item, at, frozenset({"served_entity_name", "served_model_name", "traffic_percentage"})
        )
        entity = _string(body.get("served_entity_name"), f"{at}.served_entity_name")
        model = _string(body.get("served_model_name"), f"{at}.served_model_name")
        if entity is not None and model is not None and entity != model:
            raise InvalidParameter(f"{at}: served_entity_name and served_model_name differ")
        named = entity or model
        if not named:
            raise InvalidParameter(f"{at} must name served_entity_name (or served_model_name)")
        percentage = _percentage(body.get("traffic_percentage"), f"{at}.traffic_percentage")
        routes.append(TrafficRoute(served_entity_name=named, traffic_percentage=percentage))
    return routes


def parse_inference_table(value: Any, where: str) -> InferenceTableConfig:
    body = _object(value, where, _TABLE_KEYS)
    fraction = body.get("sampling_fraction", 1.0)
    if isinstance(fraction, bool) or not isinstance(fraction, int | float):
        raise InvalidParameter(f"{where}.sampling_fraction must be a number between 0 and 1")
    return InferenceTableConfig(
        enabled=_bool(body.get("enabled"), f"{where}.enabled"),
        catalog_name=_string(body.get("catalog_name"), f"{where}.catalog_name"),
        schema_name=_string(body.get("schema_name"), f"{where}.schema_name"),
        table_name_prefix=_string(body.get("table_name_prefix"), f"{where}.table_name_prefix"),
        sampling_fraction=float(fraction),
    )


def parse_ai_gateway(value: Any) -> InferenceTableConfig:
    body = _object(value, "ai_gateway", frozenset({"inference_table_config"}) | _UNSUPPORTED)
    unsupported = sorted(k for k in body if k in _UNSUPPORTED and body[k])
    if unsupported:
        raise InvalidParameter(
            f"ai_gateway: {unsupported} are not supported by Heron; give inference_table_config"
        )
    table = body.get("inference_table_config")
    if table is None:
        return InferenceTableConfig()
    return parse_inference_table(table, "ai_gateway.inference_table_config")


_UNSUPPORTED = frozenset({"usage_tracking_config", "guardrails", "rate_limits", "fallback_config"})


def parse_tags(value: Any, where: str) -> dict[str, str]:
    tags = {}
    for i, item in enumerate(_list(value, where)):
        body = _object(item, f"{where}[{i}]", frozenset({"key", "value"}))
        key = _string(body.get("key"), f"{where}[{i}].key")
        if not key:
            raise InvalidParameter(f"{where}[{i}].key is required")
        tags[key] = _string(body.get("value"), f"{where}[{i}].value") or ""
    return tags


def parse_tag_keys(value: Any, where: str) -> list[str]:
    keys = []
    for i, item in enumerate(_list(value, where)):
        key = _string(item, f"{where}[{i}]")
        if key:
            keys.append(key)
    return keys


# -- writing ----------------------------------------------------------------------------


def endpoint_json(status: EndpointStatus) -> Json:
    e = status.endpoint
    out: Json = {
        "id": e.endpoint_id,
        "name": e.name,
        "creator": e.creator,
        "creation_timestamp": e.creation_timestamp,
        "last_updated_timestamp": e.last_updated_timestamp,
        "state": {
            "ready": "READY" if status.ready else "NOT_READY",
            "config_update": status.config_update,
        },
        "tags": tags_json(e.tags),
        "permission_level": "CAN_MANAGE",
        "route_optimized": False,
    }
    if status.message:
        out["state"]["message"] = status.message
    if status.served_config is not None:
        out["config"] = config_json(status.served_config, status, pending=False)
    if status.pending_config is not None:
        pending = config_json(status.pending_config, status, pending=True)
        pending["start_time"] = status.pending_config.creation_timestamp
        out["pending_config"] = pending
    if e.inference_table != InferenceTableConfig():
        out["ai_gateway"] = ai_gateway_json(e.inference_table)
    # Heron's: the live replicas, as they report themselves (never their token).
    out["replicas"] = [
        {
            "replica_id": r.replica_id,
            "host": r.host,
            "pid": r.pid,
            "state": r.state.value,
            "config_version": r.config_version,
            "versions": dict(r.versions),
            "message": r.message,
            "started_at": r.started_at,
            "heartbeat_at": r.heartbeat_at,
        }
        for r in status.replicas
    ]
    return out


def config_json(config: EndpointConfig, status: EndpointStatus, *, pending: bool) -> Json:
    versions = _versions(config, status, pending)
    entities, models = [], []
    for entity in config.served_entities:
        version = versions.get(entity.name) or entity.entity_version or ""
        state = _deployment(status, pending)
        common = {
            "workload_size": entity.workload_size,
            "scale_to_zero_enabled": entity.scale_to_zero_enabled,
            "state": state,
            "creator": status.endpoint.creator,
            "creation_timestamp": config.creation_timestamp,
        }
        served: Json = {"name": entity.name, "entity_name": entity.entity_name,
                        "entity_version": version, **common}  # fmt: skip
        if entity.entity_alias is not None:
            served["entity_alias"] = entity.entity_alias
        entities.append(served)
        models.append({"name": entity.name, "model_name": entity.entity_name,
                       "model_version": version, **common})  # fmt: skip
    traffic: Json = {"routes": _routes_json(config.routes)}
    if config.shadow_routes:
        traffic["shadow_routes"] = _routes_json(config.shadow_routes)
    return {
        "served_entities": entities,
        "served_models": models,
        "traffic_config": traffic,
        "config_version": config.config_version,
    }


def _versions(
    config: EndpointConfig, status: EndpointStatus, pending: bool
) -> Mapping[str, str | None]:
    """The model version of each entity: what the replicas on `config` serve, or for the
    pending configuration what its entities resolve to now."""
    if pending:
        return status.versions
    on_it = [r for r in status.replicas if r.config_version == config.config_version]
    on_it.sort(key=lambda r: r.state != "READY")
    return dict(on_it[0].versions) if on_it else {}


def _deployment(status: EndpointStatus, pending: bool) -> Json:
    if not pending:
        return {"deployment": "DEPLOYMENT_READY", "deployment_state_message": ""}
    if status.config_update == ConfigUpdate.UPDATE_FAILED:
        return {"deployment": "DEPLOYMENT_FAILED", "deployment_state_message": status.message}
    return {"deployment": "DEPLOYMENT_CREATING", "deployment_state_message": ""}


def _routes_json(routes: Sequence[TrafficRoute]) -> list[Json]:
    return [
        {
            "served_model_name": r.served_entity_name,
            "served_entity_name": r.served_entity_name,
            "traffic_percentage": r.traffic_percentage,
        }
        for r in routes
    ]


def tags_json(tags: Mapping[str, str]) -> list[Json]:
    return [{"key": k, "value": v} for k, v in sorted(tags.items())]


def ai_gateway_json(table: InferenceTableConfig) -> Json:
    config: Json = {"enabled": table.enabled, "sampling_fraction": table.sampling_fraction}
    for what in ("catalog_name", "schema_name", "table_name_prefix"):
        if getattr(table, what) is not None:
            config[what] = getattr(table, what)
    return {"inference_table_config": config}
