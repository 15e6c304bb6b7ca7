"""Catalogs, schemas and three-level model names, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from heron.errors import AlreadyExists, InvalidParameter, NotFound
from heron.services import AllowAll
from heron.services.registry import RegistryService
from heron.services.registry_namespaces import NamespaceService


@pytest.fixture
def namespaces(stores: Any) -> NamespaceService:
    return NamespaceService(stores.namespaces, AllowAll())


@pytest.fixture
def registry(stores: Any) -> RegistryService:
    return RegistryService(
        stores.registered_models,
        stores.model_versions,
        stores.model_sources,
        AllowAll(),
        artifact_roots=("mlflow-artifacts:",),
        namespaces=stores.namespaces,
    )


def test_default_namespace_exists_and_cannot_be_deleted(namespaces: NamespaceService) -> None:
    assert [c.name for c in namespaces.list_catalogs()] == ["main"]
    assert [s.full_name for s in namespaces.list_schemas("main")] == ["main.default"]
    with pytest.raises(InvalidParameter):
        namespaces.delete_schema("main", "default")
    with pytest.raises(InvalidParameter):
        namespaces.delete_catalog("main")


def test_create_list_get_and_owner(namespaces: NamespaceService) -> None:
    created = namespaces.create_catalog("prod", comment="production")
    assert created.owner
    assert namespaces.get_catalog("prod").comment == "production"
    with pytest.raises(AlreadyExists):
        namespaces.create_catalog("prod")
    schema = namespaces.create_schema("prod", "fraud")
    assert (schema.full_name, bool(schema.owner)) == ("prod.fraud", True)
    assert [s.name for s in namespaces.list_schemas("prod")] == ["fraud"]
    with pytest.raises(NotFound):
        namespaces.create_schema("nope", "x")
    with pytest.raises(NotFound):
        namespaces.get_schema("prod", "nope")


@pytest.mark.parametrize("name", ["", "a.b", "a b", "a/b", "x" * 256], ids=str)
def test_bad_namespace_names(namespaces: NamespaceService, name: str) -> None:
    with pytest.raises(InvalidParameter):
        namespaces.create_catalog(name)


def test_three_level_names_need_their_schema(
    namespaces: NamespaceService, registry: RegistryService
) -> None:
    with pytest.raises(NotFound, match=r"prod\.fraud"):
        registry.create_registered_model("prod.fraud.detector")
    namespaces.create_catalog("prod")
    namespaces.create_schema("prod", "fraud")
    registry.create_registered_model("prod.fraud.detector")
    registry.create_registered_model("plain-name")  # the default namespace
    registry.create_registered_model("has.one-dot")  # not three-level: a plain name
    with pytest.raises(InvalidParameter):
        registry.create_registered_model("prod.fraud.bad name")
    with pytest.raises(NotFound):
        registry.rename_registered_model("plain-name", "prod.other.x")


def test_delete_only_when_empty(namespaces: NamespaceService, registry: RegistryService) -> None:
    namespaces.create_catalog("dev")
    namespaces.create_schema("dev", "team_a")
    registry.create_registered_model("dev.team_a.m")
    with pytest.raises(InvalidParameter, match="not empty"):
        namespaces.delete_schema("dev", "team_a")
    with pytest.raises(InvalidParameter, match="not empty"):
        namespaces.delete_catalog("dev")
    registry.delete_registered_model("dev.team_a.m")
    namespaces.delete_schema("dev", "team_a")
    namespaces.delete_catalog("dev")
    with pytest.raises(NotFound):
        namespaces.get_catalog("dev")
