"""Catalogs and schemas through HeronClient, in process and over HTTP."""

from __future__ import annotations

import pytest

from heron import HeronClient
from heron.errors import AlreadyExists, InvalidParameter, NotFound


def test_catalogs_and_schemas_hold_three_level_models(client: HeronClient) -> None:
    catalog = client.create_catalog("prod", comment="serving")
    assert (catalog.name, catalog.comment) == ("prod", "serving")
    assert catalog.owner
    schema = client.create_schema("prod", "fraud", comment="fraud models")
    assert (schema.full_name, schema.comment) == ("prod.fraud", "fraud models")
    assert client.get_catalog("prod") == catalog
    assert client.get_schema("prod.fraud") == schema
    assert [c.name for c in client.list_catalogs()] == ["main", "prod"]
    assert [s.full_name for s in client.list_schemas("prod")] == ["prod.fraud"]
    assert client.create_registered_model("prod.fraud.scorer").name == "prod.fraud.scorer"


def test_deleting_namespaces_only_when_empty(client: HeronClient) -> None:
    client.create_catalog("lab")
    client.create_schema("lab", "x")
    client.create_registered_model("lab.x.m")
    with pytest.raises(InvalidParameter, match="lab"):
        client.delete_catalog("lab")
    with pytest.raises(InvalidParameter):
        client.delete_schema("lab.x")
    client.delete_registered_model("lab.x.m")
    client.delete_schema("lab.x")
    client.delete_catalog("lab")
    with pytest.raises(NotFound):
        client.get_catalog("lab")
    with pytest.raises(InvalidParameter):
        client.delete_catalog("main")


def test_namespace_errors_are_the_same_either_way(client: HeronClient) -> None:
    client.create_catalog("c1")
    with pytest.raises(AlreadyExists):
        client.create_catalog("c1")
    with pytest.raises(NotFound):
        client.create_schema("nope", "s")
    with pytest.raises(NotFound):
        client.get_schema("c1.missing")
    with pytest.raises(NotFound):
        client.create_registered_model("c1.missing.m")
    with pytest.raises(InvalidParameter):
        client.create_catalog("bad name")
    with pytest.raises(InvalidParameter, match=r"<catalog>\.<schema>"):
        client.get_schema("no-dot")
