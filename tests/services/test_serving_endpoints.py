"""Serving endpoint rules and state, on SQLite and PostgreSQL through the real stores."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.entities.serving import (
    EndpointConfig,
    InferenceTableConfig,
    Replica,
    ReplicaState,
    ServedEntity,
    TrafficRoute,
)
from heron.errors import AlreadyExists, InvalidParameter, NotFound
from heron.services.access import Identity, identity_scope
from heron.services.serving_state import ConfigUpdate
from heron.services.validation import MAX_USER_ID


@pytest.fixture
def services(database_uri: str, tmp_path: Path) -> Iterator[Any]:
    from heron.services import AllowAll
    from heron.services.build import build_services
    from heron.settings import Settings
    from heron.store.sql import open_sql_stores

    settings = Settings(backend_store_uri=database_uri, artifacts_destination=str(tmp_path))
    stores = open_sql_stores(database_uri, default_artifact_root="mlflow-artifacts:")
    built = build_services(stores, AllowAll(), settings)
    registry = built.registry
    registry.create_registered_model("fraud")
    for _ in range(3):
        registry.create_model_version("fraud", "mlflow-artifacts:/0/files/m")
    registry.set_registered_model_alias("fraud", "champion", "2")
    try:
        yield built
    finally:
        built.close()


def _config(*entities: ServedEntity, routes: tuple[TrafficRoute, ...] = ()) -> EndpointConfig:
    return EndpointConfig(config_version=0, served_entities=entities, routes=routes)


def _entity(name: str, version: str | None = None, alias: str | None = None) -> ServedEntity:
    return ServedEntity(name=name, entity_name="fraud", entity_version=version, entity_alias=alias)


def _replica(endpoint_id: str, config_version: int, versions: dict[str, str], **kw: Any) -> Replica:
    now = int(time.time() * 1000)
    values: dict[str, Any] = {
        "replica_id": "r1", "endpoint_id": endpoint_id, "url": "http://127.0.0.1:1",
        "token": "t", "state": ReplicaState.READY, "config_version": config_version,
        "versions": versions, "started_at": now, "heartbeat_at": now,
    }  # fmt: skip
    values.update(kw)
    return Replica(**values)


def test_create_get_list_delete(services: Any) -> None:
    endpoints = services.endpoints
    created = endpoints.create_endpoint("fraud-ep", _config(_entity("v1", "1")), tags={"t": "x"})
    assert created.endpoint.config.config_version == 1
    assert created.endpoint.config.routes == (
        TrafficRoute(served_entity_name="v1", traffic_percentage=100),
    )
    assert (created.ready, created.config_update) == (False, ConfigUpdate.IN_PROGRESS)
    assert created.pending_config is not None
    assert created.served_config is None
    with pytest.raises(AlreadyExists):
        endpoints.create_endpoint("fraud-ep", _config(_entity("v1", "1")))
    assert [s.endpoint.name for s in endpoints.list_endpoints()] == ["fraud-ep"]
    assert endpoints.get_endpoint("fraud-ep").endpoint.tags == {"t": "x"}
    endpoints.delete_endpoint("fraud-ep")
    with pytest.raises(NotFound):
        endpoints.get_endpoint("fraud-ep")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (_config(), "at least one"),
        (_config(_entity("a", "9")), "does not exist|not found"),
        (_config(ServedEntity(name="a", entity_name="nope", entity_version="1")), "nope"),
        (_config(_entity("a", "1", alias="champion")), "one of them"),
        (_config(_entity("a", "x1")), "version number"),
        (_config(_entity("a", "1"), _entity("b", "2")), "routes is required"),
        (_config(_entity("a", "1"), _entity("a", "2")), "unique"),
        (
            _config(
                _entity("a", "1"),
                routes=(TrafficRoute(served_entity_name="a", traffic_percentage=90),),
            ),
            "add up to 100",
        ),
        (
            _config(
                _entity("a", "1"),
                routes=(TrafficRoute(served_entity_name="b", traffic_percentage=100),),
            ),
            "not a served entity",
        ),
        (_config(_entity("a b", "1")), "Invalid served entity name"),
    ],
    ids=[
        "empty",
        "no-version",
        "no-model",
        "version-and-alias",
        "bad-version",
        "no-routes",
        "same-name",
        "not-100",
        "unknown-route",
        "bad-name",
    ],
)
def test_bad_configurations_are_refused(
    services: Any, config: EndpointConfig, message: str
) -> None:
    with pytest.raises(InvalidParameter, match=message):
        services.endpoints.create_endpoint("ep", config)


@pytest.mark.parametrize("name", ["", "a b", "x" * 64, "a/b", "a\x00"])
def test_bad_endpoint_names_are_refused(services: Any, name: str) -> None:
    with pytest.raises(InvalidParameter, match="endpoint name"):
        services.endpoints.create_endpoint(name, _config(_entity("a", "1")))


def test_a_caller_with_a_256_character_name_creates_an_endpoint(services: Any) -> None:
    """The creator is the caller's name, as long as a user's may be (PostgreSQL refused one
    past 250 characters)."""
    name = "u" * MAX_USER_ID
    with identity_scope(Identity(name=name, authenticated=True)):
        services.endpoints.create_endpoint("ep", _config(_entity("a", "1")))
    assert services.endpoints.get_endpoint("ep").endpoint.creator == name


@pytest.mark.parametrize(
    ("field", "value"),
    [("replica_id", "r" * 65), ("url", "http://" + "h" * 494)],
    ids=["replica-id", "url"],
)
def test_a_replica_reporting_what_its_row_cannot_hold_is_refused(
    services: Any, field: str, value: str
) -> None:
    endpoints = services.endpoints
    endpoint_id = endpoints.create_endpoint("ep", _config(_entity("a", "1"))).endpoint.endpoint_id
    with pytest.raises(InvalidParameter, match="the limit is"):
        endpoints.report_replica("ep", _replica(endpoint_id, 1, {"a": "1"}, **{field: value}))
    assert list(endpoints.get_endpoint("ep").replicas) == []


def test_update_and_roll_back_make_new_configuration_versions(services: Any) -> None:
    endpoints = services.endpoints
    endpoints.create_endpoint("ep", _config(_entity("a", "1")))
    split = _config(
        _entity("a", "1"),
        _entity("b", "3"),
        routes=(
            TrafficRoute(served_entity_name="a", traffic_percentage=90),
            TrafficRoute(served_entity_name="b", traffic_percentage=10),
        ),
    )
    updated = endpoints.update_config("ep", split)
    assert updated.endpoint.config.config_version == 2
    assert [e.name for e in updated.endpoint.config.served_entities] == ["a", "b"]
    rolled = endpoints.rollback("ep")
    assert rolled.endpoint.config.config_version == 3
    assert [e.entity_version for e in rolled.endpoint.config.served_entities] == ["1"]
    again = endpoints.rollback("ep")  # the configuration before 3 is 2: the split again
    assert len(again.endpoint.config.served_entities) == 2


def test_the_first_configuration_has_nothing_to_roll_back_to(services: Any) -> None:
    services.endpoints.create_endpoint("ep", _config(_entity("a", "1")))
    with pytest.raises(InvalidParameter, match="no configuration before version 1"):
        services.endpoints.rollback("ep")


def test_state_follows_the_replicas_reports(services: Any) -> None:
    endpoints = services.endpoints
    status = endpoints.create_endpoint("ep", _config(_entity("champ", alias="champion")))
    endpoint_id = status.endpoint.endpoint_id
    assert status.versions == {"champ": "2"}
    endpoints.report_replica("ep", _replica(endpoint_id, 1, {"champ": "2"}))
    status = endpoints.get_endpoint("ep")
    assert (status.ready, status.config_update, status.pending_config) == (
        True, ConfigUpdate.NOT_UPDATING, None,
    )  # fmt: skip
    # The alias moves: the replica still serves 2, so the update is in progress.
    services.registry.set_registered_model_alias("fraud", "champion", "3")
    status = endpoints.get_endpoint("ep")
    assert (status.ready, status.config_update) == (True, ConfigUpdate.IN_PROGRESS)
    assert status.versions == {"champ": "3"}
    endpoints.report_replica("ep", _replica(endpoint_id, 1, {"champ": "3"}))
    assert endpoints.get_endpoint("ep").config_update == ConfigUpdate.NOT_UPDATING
    # A replica that stopped reporting is not counted.
    stale = int(time.time() * 1000) - 60_000
    endpoints.report_replica("ep", _replica(endpoint_id, 1, {"champ": "3"}, heartbeat_at=stale))
    assert endpoints.get_endpoint("ep").ready is False


def test_a_failed_rollout_is_update_failed(services: Any) -> None:
    endpoints = services.endpoints
    endpoint_id = endpoints.create_endpoint("ep", _config(_entity("a", "1"))).endpoint.endpoint_id
    endpoints.report_replica("ep", _replica(endpoint_id, 1, {"a": "1"}))
    endpoints.update_config("ep", _config(_entity("a", "2")))
    failed = _replica(endpoint_id, 1, {"a": "1"}, state=ReplicaState.FAILED, message="boom")
    endpoints.report_replica("ep", failed)
    status = endpoints.get_endpoint("ep")
    assert (status.ready, status.config_update, status.message) == (
        True, ConfigUpdate.UPDATE_FAILED, "boom",
    )  # fmt: skip
    assert status.served_config is not None
    assert status.served_config.config_version == 1


def test_target_lists_live_replicas_and_capture(services: Any) -> None:
    endpoints = services.endpoints
    endpoint_id = endpoints.create_endpoint("ep", _config(_entity("a", "1"))).endpoint.endpoint_id
    assert endpoints.target("ep").replicas == []
    endpoints.report_replica("ep", _replica(endpoint_id, 1, {"a": "1"}))
    endpoints.set_inference_table("ep", InferenceTableConfig(enabled=True, sampling_fraction=0.5))
    target = endpoints.target("ep")
    assert [r.replica_id for r in target.replicas] == ["r1"]
    assert target.inference_table.sampling_fraction == 0.5
    with pytest.raises(NotFound):
        endpoints.target("nope")


def test_tags_are_added_and_removed(services: Any) -> None:
    endpoints = services.endpoints
    endpoints.create_endpoint("ep", _config(_entity("a", "1")), tags={"a": "1", "b": "2"})
    assert endpoints.update_tags("ep", {"c": "3"}, ["a"]) == {"b": "2", "c": "3"}
    with pytest.raises(InvalidParameter, match="sampling_fraction"):
        endpoints.set_inference_table("ep", InferenceTableConfig(sampling_fraction=2.0))
