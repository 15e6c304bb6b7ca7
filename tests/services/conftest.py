"""Fixtures for the service tests of managed serving."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def services_with_endpoint(database_uri: str, tmp_path: Path) -> Iterator[Any]:
    """Every service on the test's database (artifacts under tmp_path), with registered
    model `m` version 1 served by endpoint `ep` (entity `a`)."""
    from heron.entities.serving import EndpointConfig, ServedEntity
    from heron.services import AllowAll
    from heron.services.build import build_services
    from heron.settings import Settings
    from heron.store.sql import open_sql_stores

    settings = Settings(backend_store_uri=database_uri, artifacts_destination=str(tmp_path))
    stores = open_sql_stores(database_uri, default_artifact_root="mlflow-artifacts:")
    built = build_services(stores, AllowAll(), settings)
    built.registry.create_registered_model("m")
    built.registry.create_model_version("m", "mlflow-artifacts:/0/files/m")
    entity = ServedEntity(name="a", entity_name="m", entity_version="1")
    built.endpoints.create_endpoint(
        "ep", EndpointConfig(config_version=0, served_entities=(entity,), routes=())
    )
    try:
        yield built
    finally:
        built.close()
