"""Catalogs and schemas over HTTP: Heron's /api/2.0/heron/catalogs/* and /schemas/*."""

from __future__ import annotations

from heron.client.http.transport import Transport
from heron.entities.registry import Catalog, Schema
from heron.mlflow_json import Json

HERON_API = "/api/2.0/heron"


class HttpNamespaces:
    """The `NamespaceApi` methods over a transport (`heron.client.http.transport.Transport`)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create_catalog(self, name: str, comment: str | None = None) -> Catalog:
        body = self._t.post(f"{HERON_API}/catalogs/create", {"name": name, "comment": comment})
        return catalog_in(body["catalog"])

    def get_catalog(self, name: str) -> Catalog:
        return catalog_in(self._t.get(f"{HERON_API}/catalogs/get", {"name": name})["catalog"])

    def list_catalogs(self) -> list[Catalog]:
        body = self._t.get(f"{HERON_API}/catalogs/list", {})
        return [catalog_in(c) for c in body.get("catalogs", ())]

    def delete_catalog(self, name: str) -> None:
        self._t.send_json("DELETE", f"{HERON_API}/catalogs/delete", {"name": name})

    def create_schema(self, catalog_name: str, name: str, comment: str | None = None) -> Schema:
        payload = {"catalog_name": catalog_name, "name": name, "comment": comment}
        return schema_in(self._t.post(f"{HERON_API}/schemas/create", payload)["schema"])

    def get_schema(self, catalog_name: str, name: str) -> Schema:
        query = {"full_name": f"{catalog_name}.{name}"}
        return schema_in(self._t.get(f"{HERON_API}/schemas/get", query)["schema"])

    def list_schemas(self, catalog_name: str) -> list[Schema]:
        body = self._t.get(f"{HERON_API}/schemas/list", {"catalog_name": catalog_name})
        return [schema_in(s) for s in body.get("schemas", ())]

    def delete_schema(self, catalog_name: str, name: str) -> None:
        body = {"full_name": f"{catalog_name}.{name}"}
        self._t.send_json("DELETE", f"{HERON_API}/schemas/delete", body)


def catalog_in(body: Json) -> Catalog:
    return Catalog(
        name=str(body.get("name", "")),
        creation_timestamp=int(body.get("creation_timestamp", 0)),
        last_updated_timestamp=int(body.get("last_updated_timestamp", 0)),
        owner=body.get("owner") or None,
        comment=body.get("comment") or None,
    )


def schema_in(body: Json) -> Schema:
    return Schema(
        catalog_name=str(body.get("catalog_name", "")),
        name=str(body.get("name", "")),
        creation_timestamp=int(body.get("creation_timestamp", 0)),
        last_updated_timestamp=int(body.get("last_updated_timestamp", 0)),
        owner=body.get("owner") or None,
        comment=body.get("comment") or None,
    )
