"""Heron's namespace routes: /catalogs/* and /schemas/* (create, get, list, delete when empty)."""

from __future__ import annotations

from heron.entities.registry import Catalog, Schema
from heron.errors import InvalidParameter
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.registry_namespaces import NamespaceService
from heron.web.routes import PolicyRoute


def catalog(c: Catalog) -> Json:
    return {
        "name": c.name,
        "owner": c.owner,
        "comment": c.comment,
        "creation_timestamp": c.creation_timestamp,
        "last_updated_timestamp": c.last_updated_timestamp,
    }


def schema(s: Schema) -> Json:
    return {
        "catalog_name": s.catalog_name,
        "name": s.name,
        "full_name": s.full_name,
        "owner": s.owner,
        "comment": s.comment,
        "creation_timestamp": s.creation_timestamp,
        "last_updated_timestamp": s.last_updated_timestamp,
    }


def _full_name(f: Fields) -> tuple[str, str]:
    full_name = f.required_string("full_name")
    catalog_name, dot, name = full_name.partition(".")
    if not dot:
        raise InvalidParameter(f"full_name {full_name!r} must be <catalog>.<schema>")
    return catalog_name, name


def routes(api: Endpoints, service: NamespaceService) -> list[PolicyRoute]:
    def create_catalog(f: Fields) -> Json:
        created = service.create_catalog(f.required_string("name"), f.string("comment"))
        return {"catalog": catalog(created)}

    def get_catalog(f: Fields) -> Json:
        return {"catalog": catalog(service.get_catalog(f.required_string("name")))}

    def list_catalogs(f: Fields) -> Json:
        return {"catalogs": [catalog(c) for c in service.list_catalogs()]}

    def delete_catalog(f: Fields) -> Json:
        service.delete_catalog(f.required_string("name"))
        return {}

    def create_schema(f: Fields) -> Json:
        created = service.create_schema(
            f.required_string("catalog_name"), f.required_string("name"), f.string("comment")
        )
        return {"schema": schema(created)}

    def get_schema(f: Fields) -> Json:
        return {"schema": schema(service.get_schema(*_full_name(f)))}

    def list_schemas(f: Fields) -> Json:
        found = service.list_schemas(f.required_string("catalog_name"))
        return {"schemas": [schema(s) for s in found]}

    def delete_schema(f: Fields) -> Json:
        service.delete_schema(*_full_name(f))
        return {}

    return [
        api.post("/catalogs/create", create_catalog, requires("create", "namespace", "name")),
        api.get("/catalogs/get", get_catalog, requires("read", "namespace", "name")),
        api.get("/catalogs/list", list_catalogs, requires("read", "namespace")),
        api.route(
            "DELETE", "/catalogs/delete", delete_catalog, requires("delete", "namespace", "name")
        ),
        api.post("/schemas/create", create_schema, requires("create", "namespace", "catalog_name")),
        api.get("/schemas/get", get_schema, requires("read", "namespace", "full_name")),
        api.get("/schemas/list", list_schemas, requires("read", "namespace", "catalog_name")),
        api.route(
            "DELETE", "/schemas/delete", delete_schema, requires("delete", "namespace", "full_name")
        ),
    ]
