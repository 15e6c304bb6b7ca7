"""Catalogs and schemas on `HeronClient`: the namespaces of `catalog.schema.model` names."""

from __future__ import annotations

from heron.client.backend import Backend
from heron.entities.registry import Catalog, Schema
from heron.errors import InvalidParameter


class NamespaceMethods:
    """Mixed into `HeronClient`; `backend` is the client's backend.

    Example:
        >>> client.create_catalog("prod", comment="models that serve traffic")
        >>> client.create_schema("prod", "fraud")
        >>> client.create_registered_model("prod.fraud.scorer")
    """

    @property
    def backend(self) -> Backend:
        raise NotImplementedError  # pragma: no cover - HeronClient provides it

    def create_catalog(self, name: str, comment: str | None = None) -> Catalog:
        """Creates a catalog owned by the caller. Raises AlreadyExists when it exists."""
        return self.backend.namespaces.create_catalog(name, comment)

    def get_catalog(self, name: str) -> Catalog:
        """Raises NotFound when there is no such catalog."""
        return self.backend.namespaces.get_catalog(name)

    def list_catalogs(self) -> list[Catalog]:
        """Every catalog, by name (`main` is always there)."""
        return self.backend.namespaces.list_catalogs()

    def delete_catalog(self, name: str) -> None:
        """Deletes an empty catalog. Raises InvalidParameter while it has schemas."""
        self.backend.namespaces.delete_catalog(name)

    def create_schema(self, catalog_name: str, name: str, comment: str | None = None) -> Schema:
        """Creates `catalog_name.name`. Raises NotFound when the catalog does not exist."""
        return self.backend.namespaces.create_schema(catalog_name, name, comment)

    def get_schema(self, full_name: str) -> Schema:
        """The schema named `catalog.schema`. Raises NotFound."""
        return self.backend.namespaces.get_schema(*_split(full_name))

    def list_schemas(self, catalog_name: str) -> list[Schema]:
        """The catalog's schemas, by name. Raises NotFound when the catalog does not exist."""
        return self.backend.namespaces.list_schemas(catalog_name)

    def delete_schema(self, full_name: str) -> None:
        """Deletes the empty schema `catalog.schema`. Raises InvalidParameter while
        registered models live in it."""
        self.backend.namespaces.delete_schema(*_split(full_name))


def _split(full_name: str) -> tuple[str, str]:
    catalog_name, dot, name = str(full_name).partition(".")
    if not dot:
        raise InvalidParameter(f"full_name {full_name!r} must be <catalog>.<schema>")
    return catalog_name, name
