"""EndpointService: the rules of managed serving endpoints (names, served entities, traffic
routes, rollback), their state as the replicas report it, and where requests go.

The tracking server never loads a model: replicas (`heron serving worker`) read what to serve
from here (`desired`), report what they serve (`report_replica`), and the server's
invocation route asks `target` which replicas answer an endpoint."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from heron.entities.serving import (
    EndpointConfig,
    InferenceTableConfig,
    Replica,
    ServedEntity,
    ServingEndpoint,
    TrafficRoute,
)
from heron.errors import InvalidParameter, NotFound
from heron.services.access import Authorizer, authorize, created, listing
from heron.services.changes import changed, changed_fields, noting
from heron.services.registry import RegistryService
from heron.services.serving_state import (
    HEARTBEAT_TIMEOUT_MS,
    EndpointStatus,
    answers,
    status_of,
)
from heron.services.validation import check_length, check_text
from heron.store.serving import EndpointStore, ReplicaStore

# How long the invocation route trusts what it read about an endpoint's replicas.
TARGET_TTL_S = 0.5

MAX_ENDPOINT_NAME = 63
MAX_ENTITY_NAME = 63  # a served entity's name
MAX_REPLICA_ID = 64  # `heron serving worker --replica-id`
MAX_REPLICA_URL = 500  # `heron serving worker --advertise-url`
_ENDPOINT_NAME = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_ENDPOINT_NAME}}}")
_ENTITY_NAME = re.compile(rf"[A-Za-z0-9_.-]{{1,{MAX_ENTITY_NAME}}}")
WORKLOAD_SIZES = ("Small", "Medium", "Large")
MAX_ENTITIES = 15  # Databricks' limit of served entities per endpoint


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Where an endpoint's requests go: its live replicas, its shadow routes and whether
    (and how much) it captures."""

    endpoint_id: str
    name: str
    replicas: Sequence[Replica]
    shadow_routes: Sequence[TrafficRoute]
    inference_table: InferenceTableConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class Desired:
    """What a replica of an endpoint should serve: the newest configuration, and for each
    served entity the model version it resolves to now (None: it cannot be resolved)."""

    endpoint: ServingEndpoint
    versions: Mapping[str, str | None]


def now_ms() -> int:
    return int(time.time() * 1000)


class EndpointService:
    def __init__(
        self,
        endpoints: EndpointStore,
        replicas: ReplicaStore,
        registry: RegistryService,
        authorizer: Authorizer,
    ) -> None:
        self._endpoints = endpoints
        self._replicas = replicas
        self._registry = registry
        self._authorizer = authorizer
        self._targets: dict[str, tuple[float, Target]] = {}
        self._lock = threading.Lock()

    # -- the endpoints -------------------------------------------------------------------

    def create_endpoint(
        self,
        name: str,
        config: EndpointConfig,
        *,
        tags: Mapping[str, str] | None = None,
        inference_table: InferenceTableConfig | None = None,
    ) -> EndpointStatus:
        """Creates an endpoint with its first configuration (`config_version` 1)."""
        check_endpoint_name(name)
        caller = authorize(self._authorizer, "create", "serving_endpoint", name)
        now = now_ms()
        config = replace(self._checked(config), config_version=1, creation_timestamp=now)
        endpoint = ServingEndpoint(
            endpoint_id=uuid.uuid4().hex,
            name=name,
            creator=caller.name,
            creation_timestamp=now,
            last_updated_timestamp=now,
            config=config,
            tags=_checked_tags(tags or {}),
            inference_table=_checked_table(inference_table or InferenceTableConfig()),
        )
        self._endpoints.create_endpoint(endpoint)
        created(self._authorizer, "serving_endpoint", name)
        changed("serving_endpoint", name, after={**_audited(config), "tags": dict(endpoint.tags)})
        return self._status(endpoint)

    def get_endpoint(self, name: str) -> EndpointStatus:
        check_endpoint_name(name)
        authorize(self._authorizer, "read", "serving_endpoint", name)
        return self._status(self._endpoints.get_endpoint(name))

    def list_endpoints(self) -> list[EndpointStatus]:
        visible = listing(self._authorizer, "serving_endpoint")
        replicas = self._replicas.list_replicas()
        return [
            self._status(e, [r for r in replicas if r.endpoint_id == e.endpoint_id])
            for e in self._endpoints.list_endpoints(visible)
        ]

    def endpoint_names(self) -> list[str]:
        visible = listing(self._authorizer, "serving_endpoint")
        return [e.name for e in self._endpoints.list_endpoints(visible)]

    def prune_replicas(self, silent_for_ms: int = 3_600_000) -> int:
        """Deletes the rows of replicas silent for `silent_for_ms` (killed, never back)."""
        authorize(self._authorizer, "update", "serving_endpoint", "")
        return self._replicas.delete_silent_replicas(now_ms() - silent_for_ms)

    def delete_endpoint(self, name: str) -> None:
        check_endpoint_name(name)
        authorize(self._authorizer, "delete", "serving_endpoint", name)
        before = self._endpoints.get_endpoint(name) if noting() else None
        self._endpoints.delete_endpoint(name)
        if before is not None:
            changed("serving_endpoint", name, before=_audited(before.config))
        self._authorizer.removed("serving_endpoint", name)
        with self._lock:
            self._targets.pop(name, None)

    def update_config(self, name: str, config: EndpointConfig) -> EndpointStatus:
        """Makes `config` the endpoint's newest configuration: the replicas roll to it, and
        the one before it stays what `rollback` returns to."""
        check_endpoint_name(name)
        authorize(self._authorizer, "update", "serving_endpoint", name)
        current = self._endpoints.get_endpoint(name)
        return self._add_config(current, self._checked(config))

    def rollback(self, name: str) -> EndpointStatus:
        """Makes the configuration before the newest one the newest again (as a new
        configuration version, so the history keeps both)."""
        check_endpoint_name(name)
        authorize(self._authorizer, "update", "serving_endpoint", name)
        current = self._endpoints.get_endpoint(name)
        version = current.config.config_version
        previous = self._endpoints.get_config(current.endpoint_id, version - 1)
        if previous is None:
            raise InvalidParameter(
                f"Serving endpoint {name!r} has no configuration before version {version} "
                "to roll back to"
            )
        return self._add_config(current, self._checked(previous))

    def restore_config(self, name: str, config_version: int) -> EndpointStatus:
        """Makes configuration `config_version` of the endpoint the newest again (as a new
        version): how a deployment job undoes its rollout, whatever came after it."""
        check_endpoint_name(name)
        authorize(self._authorizer, "update", "serving_endpoint", name)
        current = self._endpoints.get_endpoint(name)
        found = self._endpoints.get_config(current.endpoint_id, config_version)
        if found is None:
            raise InvalidParameter(
                f"Serving endpoint {name!r} has no configuration version {config_version}"
            )
        return self._add_config(current, self._checked(found))

    def update_tags(
        self, name: str, add: Mapping[str, str], remove: Sequence[str]
    ) -> Mapping[str, str]:
        check_endpoint_name(name)
        authorize(self._authorizer, "update", "serving_endpoint", name)
        for key in remove:
            _check_tag_key(key)
        before = dict(self._endpoints.get_endpoint(name).tags) if noting() else {}
        after = self._endpoints.update_tags(name, _checked_tags(add), remove, now_ms())
        if noting():
            changed_fields(
                "serving_endpoint", name,
                {f"tags.{k}": v for k, v in before.items()},
                {f"tags.{k}": v for k, v in after.items()},
            )  # fmt: skip
        return after

    def set_inference_table(self, name: str, config: InferenceTableConfig) -> InferenceTableConfig:
        check_endpoint_name(name)
        authorize(self._authorizer, "update", "serving_endpoint", name)
        config = _checked_table(config)
        before = self._endpoints.get_endpoint(name).inference_table if noting() else None
        self._endpoints.set_inference_table(name, config, now_ms())
        if before is not None:
            changed_fields("serving_endpoint", name, {"inference_table": asdict(before)},
                           {"inference_table": asdict(config)})  # fmt: skip
        with self._lock:
            self._targets.pop(name, None)
        return config

    # -- replicas and routing ------------------------------------------------------------

    def desired(self, name: str) -> Desired:
        """What `name`'s replicas should serve now (raises NotFound once it is deleted)."""
        authorize(self._authorizer, "read", "serving_endpoint", name)
        endpoint = self._endpoints.get_endpoint(name)
        return Desired(endpoint=endpoint, versions=self._resolve(endpoint.config))

    def model_location(self, entity: ServedEntity, version: str) -> str:
        """Where the files of `entity`'s model `version` are (an artifact URI)."""
        return self._registry.get_model_version_download_uri(entity.entity_name, version)

    def report_replica(self, name: str, replica: Replica) -> None:
        """Records what a replica of endpoint `name` serves now (raises NotFound once the
        endpoint is deleted)."""
        authorize(self._authorizer, "update", "serving_endpoint", name)
        check_length("replica_id", replica.replica_id, MAX_REPLICA_ID)
        check_length("The replica's URL", replica.url, MAX_REPLICA_URL)
        self._replicas.put_replica(replica)

    def remove_replica(self, name: str, replica_id: str) -> None:
        authorize(self._authorizer, "update", "serving_endpoint", name)
        self._replicas.delete_replica(replica_id)

    def target(self, name: str) -> Target:
        """Where `name`'s requests go (read at most every TARGET_TTL_S). Raises NotFound."""
        authorize(self._authorizer, "execute", "serving_endpoint", name)
        with self._lock:
            cached = self._targets.get(name)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        endpoint = self._endpoints.get_endpoint(name)
        cutoff = now_ms() - HEARTBEAT_TIMEOUT_MS
        replicas = [
            r
            for r in self._replicas.list_replicas(endpoint.endpoint_id)
            if r.heartbeat_at >= cutoff and answers(r)
        ]
        found = Target(
            endpoint_id=endpoint.endpoint_id,
            name=name,
            replicas=replicas,
            shadow_routes=endpoint.config.shadow_routes,
            inference_table=endpoint.inference_table,
        )
        with self._lock:
            self._targets[name] = (time.monotonic() + TARGET_TTL_S, found)
        return found

    def cached_target(self, name: str) -> Target | None:
        """`target(name)` when it is known and fresh, without reading the database."""
        authorize(self._authorizer, "execute", "serving_endpoint", name)
        with self._lock:
            cached = self._targets.get(name)
        return cached[1] if cached is not None and cached[0] > time.monotonic() else None

    # -- inside ----------------------------------------------------------------------------

    def _add_config(self, current: ServingEndpoint, config: EndpointConfig) -> EndpointStatus:
        version = current.config.config_version
        config = replace(config, config_version=version + 1, creation_timestamp=now_ms())
        updated = self._endpoints.add_config(
            current.name, config, expected_version=version, now=config.creation_timestamp
        )
        changed_fields("serving_endpoint", current.name, _audited(current.config), _audited(config))
        with self._lock:
            self._targets.pop(current.name, None)
        return self._status(updated)

    def _checked(self, config: EndpointConfig) -> EndpointConfig:
        """`config` with its rules checked, and each entity's model version or alias found."""
        config = check_config(config)
        self._resolve(config, strict=True)
        return config

    def _resolve(self, config: EndpointConfig, *, strict: bool = False) -> dict[str, str | None]:
        versions: dict[str, str | None] = {}
        for entity in config.served_entities:
            try:
                if entity.entity_alias is not None:
                    found = self._registry.get_model_version_by_alias(
                        entity.entity_name, entity.entity_alias
                    )
                else:
                    found = self._registry.get_model_version(
                        entity.entity_name, str(entity.entity_version)
                    )
            except NotFound as exc:
                if strict:
                    raise InvalidParameter(
                        f"Served entity {entity.name!r}: {exc.message}"
                    ) from None
                versions[entity.name] = None
                continue
            versions[entity.name] = found.version
        return versions

    def _status(
        self, endpoint: ServingEndpoint, replicas: Sequence[Replica] | None = None
    ) -> EndpointStatus:
        if replicas is None:
            replicas = self._replicas.list_replicas(endpoint.endpoint_id)
        return status_of(
            endpoint,
            replicas,
            self._resolve(endpoint.config),
            lambda v: self._endpoints.get_config(endpoint.endpoint_id, v),
        )


def check_endpoint_name(name: str) -> str:
    if not _ENDPOINT_NAME.fullmatch(name):
        raise InvalidParameter(
            f"Invalid serving endpoint name {name[:100]!r}: use 1 to {MAX_ENDPOINT_NAME} "
            "letters, digits, dashes and underscores"
        )
    return name


def check_config(config: EndpointConfig) -> EndpointConfig:
    """The rules of one configuration (its entities, routes and shadow routes)."""
    entities = config.served_entities
    if not entities:
        raise InvalidParameter("config.served_entities must name at least one served entity")
    if len(entities) > MAX_ENTITIES:
        raise InvalidParameter(f"An endpoint serves at most {MAX_ENTITIES} entities")
    names = [_checked_entity(e) for e in entities]
    if len(set(names)) != len(names):
        raise InvalidParameter(f"Served entity names must be unique, got {names}")
    routes = config.routes
    if not routes:
        if len(entities) > 1:
            raise InvalidParameter(
                "config.traffic_config.routes is required when an endpoint serves more than "
                "one entity: give each its traffic_percentage"
            )
        routes = (TrafficRoute(served_entity_name=names[0], traffic_percentage=100),)
    _check_routes(routes, names, "config.traffic_config.routes")
    if sum(r.traffic_percentage for r in routes) != 100:
        raise InvalidParameter(
            "The traffic_percentage of config.traffic_config.routes must add up to 100, got "
            f"{sum(r.traffic_percentage for r in routes)}"
        )
    _check_routes(config.shadow_routes, names, "config.traffic_config.shadow_routes")
    return replace(config, served_entities=tuple(entities), routes=tuple(routes))


def _checked_entity(entity: ServedEntity) -> str:
    if not entity.entity_name:
        raise InvalidParameter("Every served entity needs an entity_name (a registered model)")
    check_length("entity_name", check_text("entity_name", entity.entity_name), 256)
    if (entity.entity_version is None) == (entity.entity_alias is None):
        raise InvalidParameter(
            f"Served entity {entity.entity_name!r}: give entity_version (a version number) or "
            "entity_alias (an alias to follow), one of them"
        )
    if entity.entity_version is not None and not entity.entity_version.isdigit():
        raise InvalidParameter(
            f"Served entity {entity.entity_name!r}: entity_version must be a version number, "
            f"got {entity.entity_version[:50]!r}"
        )
    if entity.entity_alias is not None:
        check_length("entity_alias", check_text("entity_alias", entity.entity_alias), 256)
    if not _ENTITY_NAME.fullmatch(entity.name):
        raise InvalidParameter(
            f"Invalid served entity name {entity.name[:100]!r}: use 1 to {MAX_ENTITY_NAME} "
            "letters, digits, dots, dashes and underscores"
        )
    if entity.workload_size not in WORKLOAD_SIZES:
        raise InvalidParameter(
            f"workload_size must be one of {list(WORKLOAD_SIZES)}, got {entity.workload_size!r}"
        )
    if entity.environment_vars:
        raise InvalidParameter(
            "environment_vars are not supported: a replica serves all of an endpoint's "
            "entities in one process"
        )
    return entity.name


def default_entity_name(entity_name: str, version: str | None, alias: str | None) -> str:
    """`<model>-<version>` (or `-<alias>`), as Databricks names an unnamed served entity,
    with characters a name cannot hold replaced by dashes."""
    raw = f"{entity_name}-{version if version is not None else alias}"
    return re.sub(r"[^A-Za-z0-9_.-]", "-", raw)[:MAX_ENTITY_NAME]


def _check_routes(routes: Sequence[TrafficRoute], names: Sequence[str], where: str) -> None:
    seen: set[str] = set()
    for route in routes:
        if route.served_entity_name not in names:
            raise InvalidParameter(
                f"{where} names {route.served_entity_name[:100]!r}, which is not a served "
                f"entity of the configuration ({names})"
            )
        if route.served_entity_name in seen:
            raise InvalidParameter(f"{where} names {route.served_entity_name!r} twice")
        seen.add(route.served_entity_name)
        if not 0 <= route.traffic_percentage <= 100:
            raise InvalidParameter(
                f"{where}: traffic_percentage must be between 0 and 100, got "
                f"{route.traffic_percentage}"
            )


def _check_tag_key(key: str) -> str:
    if not key:
        raise InvalidParameter("A tag key must not be empty")
    return check_length("tag key", check_text("tag key", key), 255)


def _checked_tags(tags: Mapping[str, str]) -> dict[str, str]:
    checked = {}
    for key, value in tags.items():
        checked[_check_tag_key(key)] = check_length(
            "tag value", check_text("tag value", value), 5000
        )
    return checked


def _checked_table(config: InferenceTableConfig) -> InferenceTableConfig:
    if not 0.0 <= config.sampling_fraction <= 1.0:
        raise InvalidParameter(
            f"sampling_fraction must be between 0 and 1, got {config.sampling_fraction}"
        )
    for what in ("catalog_name", "schema_name", "table_name_prefix"):
        value = getattr(config, what)
        if value is not None:
            check_length(what, check_text(what, value), 255)
    return config


def _audited(config: EndpointConfig) -> dict[str, Any]:
    """A configuration's fields for the audit log: what each entity serves, and the traffic."""
    return {
        "config_version": config.config_version,
        "served_entities": {
            e.name: {
                "model": e.entity_name,
                "version": e.entity_version,
                "alias": e.entity_alias,
            }
            for e in config.served_entities
        },
        "routes": {r.served_entity_name: r.traffic_percentage for r in config.routes},
        "shadow_routes": {r.served_entity_name: r.traffic_percentage for r in config.shadow_routes},
    }
