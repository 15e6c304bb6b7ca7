"""Catalogs and schemas: the namespaces of three-level registered model names.

A model named `catalog.schema.model` lives in that schema, which must exist when the model is
created or renamed into it; any other name is a plain name in the default namespace
(`main.default`). Each part of a three-level name is [A-Za-z0-9_-], at most 255 characters."""

from __future__ import annotations

import re

from heron.entities.registry import Catalog, Schema
from heron.errors import InvalidParameter
from heron.services import validation as v
from heron.services.access import Action, Authorizer, authorize, created, listing
from heron.services.changes import changed, noting
from heron.store.registry import NamespaceStore

DEFAULT_CATALOG = "main"
DEFAULT_SCHEMA = "default"
MAX_PART = 255
MAX_COMMENT = 10_000
_PART = re.compile(r"[A-Za-z0-9_-]+")
_THREE_LEVEL = re.compile(r"[^.]+\.[^.]+\.[^.]+")


def check_part(kind: str, name: object) -> str:
    if not isinstance(name, str) or not name:
        raise InvalidParameter(f"Missing value for required parameter '{kind}'")
    if not _PART.fullmatch(name):
        raise InvalidParameter(
            f"Invalid {kind} {name!r}: use letters, digits, underscores (_) and dashes (-)"
        )
    return v.check_length(f"{kind} {name[:40]!r}", name, MAX_PART)


def split_three_level(name: str) -> tuple[str, str, str] | None:
    """(catalog, schema, model) for a `catalog.schema.model` name, else None (a plain name).

    Raises:
        InvalidParameter: a three-level name whose parts are not valid names.
    """
    if not _THREE_LEVEL.fullmatch(name):
        return None
    catalog, schema, model = name.split(".")
    return check_part("catalog", catalog), check_part("schema", schema), check_part("model", model)


class NamespaceService:
    def __init__(self, store: NamespaceStore, authorizer: Authorizer) -> None:
        self._store = store
        self._authorizer = authorizer

    def _check(self, action: Action, name: str) -> str:
        return authorize(self._authorizer, action, "namespace", name).name

    def create_catalog(self, name: str, comment: str | None = None) -> Catalog:
        check_part("catalog", name)
        owner = self._check("create", name)
        catalog = self._store.create_catalog(name, comment=_comment(comment), owner=owner)
        created(self._authorizer, "namespace", name)
        changed("namespace", name, after=_fields(catalog))
        return catalog

    def get_catalog(self, name: str) -> Catalog:
        check_part("catalog", name)
        self._check("read", name)
        return self._store.get_catalog(name)

    def list_catalogs(self) -> list[Catalog]:
        """The catalogs the caller may browse (a few: filtered here, not in SQL)."""
        visible = listing(self._authorizer, "namespace")
        return [c for c in self._store.list_catalogs() if visible.shows(c.name)]

    def delete_catalog(self, name: str) -> None:
        check_part("catalog", name)
        if name == DEFAULT_CATALOG:
            raise InvalidParameter(f"The default catalog {name!r} cannot be deleted")
        self._check("delete", name)
        before = _fields(self._store.get_catalog(name)) if noting() else None
        self._store.delete_catalog(name)
        self._authorizer.removed("namespace", name)
        changed("namespace", name, before=before)

    def create_schema(self, catalog_name: str, name: str, comment: str | None = None) -> Schema:
        check_part("catalog", catalog_name)
        check_part("schema", name)
        owner = self._check("create", f"{catalog_name}.{name}")
        schema = self._store.create_schema(
            catalog_name, name, comment=_comment(comment), owner=owner
        )
        created(self._authorizer, "namespace", f"{catalog_name}.{name}")
        changed("namespace", f"{catalog_name}.{name}", after=_fields(schema))
        return schema

    def get_schema(self, catalog_name: str, name: str) -> Schema:
        check_part("catalog", catalog_name)
        check_part("schema", name)
        self._check("read", f"{catalog_name}.{name}")
        return self._store.get_schema(catalog_name, name)

    def list_schemas(self, catalog_name: str) -> list[Schema]:
        check_part("catalog", catalog_name)
        self._check("read", catalog_name)
        return self._store.list_schemas(catalog_name)

    def delete_schema(self, catalog_name: str, name: str) -> None:
        check_part("catalog", catalog_name)
        check_part("schema", name)
        if (catalog_name, name) == (DEFAULT_CATALOG, DEFAULT_SCHEMA):
            raise InvalidParameter("The default schema main.default cannot be deleted")
        self._check("delete", f"{catalog_name}.{name}")
        before = _fields(self._store.get_schema(catalog_name, name)) if noting() else None
        self._store.delete_schema(catalog_name, name)
        self._authorizer.removed("namespace", f"{catalog_name}.{name}")
        changed("namespace", f"{catalog_name}.{name}", before=before)


def _fields(namespace: Catalog | Schema) -> dict[str, str | None]:
    """What the audit log keeps of a catalog or schema."""
    kind = "catalog" if isinstance(namespace, Catalog) else "schema"
    return {"kind": kind, "comment": namespace.comment, "owner": namespace.owner}


def _comment(comment: str | None) -> str | None:
    if comment is None:
        return None
    return v.check_length("comment", v.check_string("comment", comment), MAX_COMMENT)
