"""SqlEndpointStore and SqlReplicaStore: serving endpoints, their configurations and the
replicas serving them, in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from heron.entities.serving import (
    EndpointConfig,
    InferenceTableConfig,
    Replica,
    ReplicaState,
    ServedEntity,
    ServingEndpoint,
    TrafficRoute,
)
from heron.errors import AlreadyExists, HeronError, NotFound
from heron.store.sql.database import Database, insert_for
from heron.store.sql.serving_tables import (
    serving_endpoint_configs,
    serving_endpoints,
    serving_replicas,
)
from heron.store.sql.visibility import visible as visible_rows
from heron.store.visibility import Visibility

_E = serving_endpoints
_C = serving_endpoint_configs
_R = serving_replicas


def _missing(name: str) -> NotFound:
    return NotFound(f"Serving endpoint {name!r} does not exist")


class SqlEndpointStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create_endpoint(self, endpoint: ServingEndpoint) -> None:
        def create(conn: Connection) -> None:
            taken = conn.execute(select(_E.c.endpoint_id).where(_E.c.name == endpoint.name))
            if taken.first() is not None:
                raise AlreadyExists(f"Serving endpoint {endpoint.name!r} already exists")
            conn.execute(
                insert(_E).values(
                    endpoint_id=endpoint.endpoint_id,
                    name=endpoint.name,
                    creator=endpoint.creator,
                    creation_timestamp=endpoint.creation_timestamp,
                    last_updated_timestamp=endpoint.last_updated_timestamp,
                    config_version=endpoint.config.config_version,
                    tags=orjson.dumps(dict(endpoint.tags)).decode(),
                    inference_table=_inference_table_json(endpoint.inference_table),
                )
            )
            _insert_config(conn, endpoint.endpoint_id, endpoint.config)

        self._db.write(create)

    def get_endpoint(self, name: str) -> ServingEndpoint:
        with self._db.read() as conn:
            found = _read_endpoints(conn, name)
        if not found:
            raise _missing(name)
        return found[0]

    def list_endpoints(self, visible: Visibility | None = None) -> list[ServingEndpoint]:
        with self._db.read() as conn:
            return _read_endpoints(conn, None, visible)

    def delete_endpoint(self, name: str) -> None:
        def remove(conn: Connection) -> None:
            endpoint_id = _endpoint_id(conn, name)
            # Spelled out: SQLite enforces the foreign keys' cascades only when asked to.
            conn.execute(delete(_R).where(_R.c.endpoint_id == endpoint_id))
            conn.execute(delete(_C).where(_C.c.endpoint_id == endpoint_id))
            conn.execute(delete(_E).where(_E.c.endpoint_id == endpoint_id))

        self._db.write(remove)

    def add_config(
        self, name: str, config: EndpointConfig, *, expected_version: int, now: int
    ) -> ServingEndpoint:
        def add(conn: Connection) -> None:
            endpoint_id = _endpoint_id(conn, name)
            moved = conn.execute(
                update(_E)
                .where(_E.c.endpoint_id == endpoint_id, _E.c.config_version == expected_version)
                .values(config_version=config.config_version, last_updated_timestamp=now)
            )
            if moved.rowcount != 1:
                conflict = HeronError(
                    f"Serving endpoint {name!r} was updated meanwhile: read it and try again"
                )
                conflict.code = "RESOURCE_CONFLICT"  # 409
                raise conflict
            _insert_config(conn, endpoint_id, config)

        self._db.write(add)
        return self.get_endpoint(name)

    def get_config(self, endpoint_id: str, config_version: int) -> EndpointConfig | None:
        with self._db.read() as conn:
            row = conn.execute(
                select(_C.c.config, _C.c.creation_timestamp).where(
                    _C.c.endpoint_id == endpoint_id, _C.c.config_version == config_version
                )
            ).first()
        return None if row is None else config_of(config_version, row.config, row[1])

    def update_tags(
        self, name: str, add: Mapping[str, str], remove: Sequence[str], now: int
    ) -> Mapping[str, str]:
        def change(conn: Connection) -> dict[str, str]:
            row = conn.execute(select(_E.c.tags).where(_E.c.name == name)).first()
            if row is None:
                raise _missing(name)
            tags: dict[str, str] = orjson.loads(row.tags)
            for key in remove:
                tags.pop(key, None)
            tags.update(add)
            conn.execute(
                update(_E)
                .where(_E.c.name == name)
                .values(tags=orjson.dumps(tags).decode(), last_updated_timestamp=now)
            )
            return tags

        return self._db.write(change)

    def set_inference_table(self, name: str, config: InferenceTableConfig, now: int) -> None:
        def change(conn: Connection) -> None:
            done = conn.execute(
                update(_E)
                .where(_E.c.name == name)
                .values(inference_table=_inference_table_json(config), last_updated_timestamp=now)
            )
            if done.rowcount != 1:
                raise _missing(name)

        self._db.write(change)


class SqlReplicaStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def put_replica(self, replica: Replica) -> None:
        values = {
            "replica_id": replica.replica_id,
            "endpoint_id": replica.endpoint_id,
            "url": replica.url,
            "token": replica.token,
            "state": replica.state.value,
            "config_version": replica.config_version,
            "versions": orjson.dumps(dict(replica.versions)).decode(),
            "host": replica.host,
            "pid": replica.pid,
            "message": replica.message,
            "started_at": replica.started_at,
            "heartbeat_at": replica.heartbeat_at,
        }

        def put(conn: Connection) -> None:
            there = conn.execute(
                select(_E.c.endpoint_id).where(_E.c.endpoint_id == replica.endpoint_id)
            )
            if there.first() is None:
                raise NotFound(f"Serving endpoint {replica.endpoint_id!r} does not exist")
            stmt = insert_for(conn, _R).values(**values)
            conn.execute(stmt.on_conflict_do_update(index_elements=["replica_id"], set_=values))

        self._db.write(put)

    def list_replicas(self, endpoint_id: str | None = None) -> list[Replica]:
        stmt = select(_R).order_by(_R.c.replica_id)
        if endpoint_id is not None:
            stmt = stmt.where(_R.c.endpoint_id == endpoint_id)
        with self._db.read() as conn:
            rows = conn.execute(stmt).all()
        return [
            Replica(
                replica_id=row.replica_id,
                endpoint_id=row.endpoint_id,
                url=row.url,
                token=row.token,
                state=ReplicaState(row.state),
                config_version=row.config_version,
                versions=orjson.loads(row.versions),
                host=row.host,
                pid=row.pid,
                message=row.message,
                started_at=row.started_at,
                heartbeat_at=row.heartbeat_at,
            )
            for row in rows
        ]

    def delete_replica(self, replica_id: str) -> None:
        self._db.write(lambda conn: conn.execute(delete(_R).where(_R.c.replica_id == replica_id)))

    def delete_silent_replicas(self, before: int) -> int:
        def remove(conn: Connection) -> int:
            return int(conn.execute(delete(_R).where(_R.c.heartbeat_at < before)).rowcount)

        return self._db.write(remove)


def _endpoint_id(conn: Connection, name: str) -> str:
    row = conn.execute(select(_E.c.endpoint_id).where(_E.c.name == name)).first()
    if row is None:
        raise _missing(name)
    return str(row.endpoint_id)


def _read_endpoints(
    conn: Connection, name: str | None, visible: Visibility | None = None
) -> list[ServingEndpoint]:
    stmt = (
        select(_E, _C.c.config, _C.c.creation_timestamp.label("config_created"))
        .join(
            _C,
            (_C.c.endpoint_id == _E.c.endpoint_id) & (_C.c.config_version == _E.c.config_version),
        )
        .order_by(_E.c.name)
    )
    if name is not None:
        stmt = stmt.where(_E.c.name == name)
    shown = visible_rows(_E.c.name, visible)
    if shown is not None:
        stmt = stmt.where(shown)
    return [
        ServingEndpoint(
            endpoint_id=row.endpoint_id,
            name=row.name,
            creator=row.creator,
            creation_timestamp=row.creation_timestamp,
            last_updated_timestamp=row.last_updated_timestamp,
            config=config_of(row.config_version, row.config, row.config_created),
            tags=orjson.loads(row.tags),
            inference_table=InferenceTableConfig(**orjson.loads(row.inference_table)),
        )
        for row in conn.execute(stmt).all()
    ]


def _insert_config(conn: Connection, endpoint_id: str, config: EndpointConfig) -> None:
    conn.execute(
        insert(_C).values(
            endpoint_id=endpoint_id,
            config_version=config.config_version,
            config=config_json(config),
            creation_timestamp=config.creation_timestamp,
        )
    )


def config_json(config: EndpointConfig) -> str:
    """The stored form of a configuration (its version and time are columns of their own)."""
    value = {
        "served_entities": [
            {
                "name": e.name,
                "entity_name": e.entity_name,
                "entity_version": e.entity_version,
                "entity_alias": e.entity_alias,
                "workload_size": e.workload_size,
                "scale_to_zero_enabled": e.scale_to_zero_enabled,
                "environment_vars": dict(e.environment_vars),
            }
            for e in config.served_entities
        ],
        "routes": [_route_json(r) for r in config.routes],
        "shadow_routes": [_route_json(r) for r in config.shadow_routes],
    }
    return orjson.dumps(value).decode()


def config_of(version: int, text: str, created: int) -> EndpointConfig:
    value: dict[str, Any] = orjson.loads(text)
    return EndpointConfig(
        config_version=version,
        served_entities=tuple(ServedEntity(**e) for e in value["served_entities"]),
        routes=tuple(TrafficRoute(**r) for r in value["routes"]),
        shadow_routes=tuple(TrafficRoute(**r) for r in value["shadow_routes"]),
        creation_timestamp=created,
    )


def _route_json(route: TrafficRoute) -> dict[str, Any]:
    return {
        "served_entity_name": route.served_entity_name,
        "traffic_percentage": route.traffic_percentage,
    }


def _inference_table_json(config: InferenceTableConfig) -> str:
    return orjson.dumps(
        {
            "enabled": config.enabled,
            "catalog_name": config.catalog_name,
            "schema_name": config.schema_name,
            "table_name_prefix": config.table_name_prefix,
            "sampling_fraction": config.sampling_fraction,
        }
    ).decode()
