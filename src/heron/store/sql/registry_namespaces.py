"""SqlNamespaceStore: the catalogs and schemas of three-level model names in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, exists, insert, select
from sqlalchemy.exc import IntegrityError

from heron.clock import now_ms
from heron.entities.registry import Catalog, Schema
from heron.errors import AlreadyExists, InvalidParameter, NotFound
from heron.store.sql.database import Database
from heron.store.sql.registry_rows import rm
from heron.store.sql.tables import registry_catalogs, registry_schemas

catalogs = registry_catalogs
schemas = registry_schemas


class SqlNamespaceStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create_catalog(self, name: str, *, comment: str | None, owner: str | None) -> Catalog:
        def create(conn: Connection) -> Catalog:
            now = now_ms()
            values = {"name": name, "owner": owner, "comment": comment}
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(catalogs).values(
                            **values, creation_timestamp=now, last_updated_timestamp=now
                        )
                    )
            except IntegrityError:
                raise AlreadyExists(f"Catalog {name!r} already exists") from None
            return _catalog(_one(conn, catalogs, catalogs.c.name == name))

        return self._db.write(create)

    def get_catalog(self, name: str) -> Catalog:
        with self._db.read() as conn:
            row = _one_or_none(conn, catalogs, catalogs.c.name == name)
        if row is None:
            raise NotFound(f"Catalog {name!r} does not exist")
        return _catalog(row)

    def list_catalogs(self) -> list[Catalog]:
        with self._db.read() as conn:
            rows = conn.execute(select(catalogs).order_by(catalogs.c.name)).all()
        return [_catalog(row) for row in rows]

    def delete_catalog(self, name: str) -> None:
        def remove(conn: Connection) -> None:
            if _one_or_none(conn, catalogs, catalogs.c.name == name) is None:
                raise NotFound(f"Catalog {name!r} does not exist")
            if conn.execute(select(exists().where(schemas.c.catalog_name == name))).scalar():
                raise InvalidParameter(f"Catalog {name!r} is not empty: delete its schemas first")
            conn.execute(delete(catalogs).where(catalogs.c.name == name))

        self._db.write(remove)

    def create_schema(
        self, catalog_name: str, name: str, *, comment: str | None, owner: str | None
    ) -> Schema:
        def create(conn: Connection) -> Schema:
            if _one_or_none(conn, catalogs, catalogs.c.name == catalog_name) is None:
                raise NotFound(f"Catalog {catalog_name!r} does not exist")
            now = now_ms()
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(schemas).values(
                            catalog_name=catalog_name,
                            name=name,
                            owner=owner,
                            comment=comment,
                            creation_timestamp=now,
                            last_updated_timestamp=now,
                        )
                    )
            except IntegrityError:
                raise AlreadyExists(f"Schema {catalog_name}.{name} already exists") from None
            return _schema(_one(conn, schemas, _schema_key(catalog_name, name)))

        return self._db.write(create)

    def get_schema(self, catalog_name: str, name: str) -> Schema:
        with self._db.read() as conn:
            row = _one_or_none(conn, schemas, _schema_key(catalog_name, name))
        if row is None:
            raise NotFound(f"Schema {catalog_name}.{name} does not exist")
        return _schema(row)

    def list_schemas(self, catalog_name: str) -> list[Schema]:
        with self._db.read() as conn:
            if _one_or_none(conn, catalogs, catalogs.c.name == catalog_name) is None:
                raise NotFound(f"Catalog {catalog_name!r} does not exist")
            in_catalog = schemas.c.catalog_name == catalog_name
            rows = conn.execute(select(schemas).where(in_catalog).order_by(schemas.c.name)).all()
        return [_schema(row) for row in rows]

    def delete_schema(self, catalog_name: str, name: str) -> None:
        def remove(conn: Connection) -> None:
            key = _schema_key(catalog_name, name)
            if _one_or_none(conn, schemas, key) is None:
                raise NotFound(f"Schema {catalog_name}.{name} does not exist")
            prefix = f"{catalog_name}.{name}."
            has_models = conn.execute(
                select(exists().where(rm.c.name.startswith(prefix, autoescape=True)))
            ).scalar()
            if has_models:
                raise InvalidParameter(
                    f"Schema {catalog_name}.{name} is not empty: delete its registered models first"
                )
            conn.execute(delete(schemas).where(key))

        self._db.write(remove)


def _schema_key(catalog_name: str, name: str) -> Any:
    return (schemas.c.catalog_name == catalog_name) & (schemas.c.name == name)


def _one_or_none(conn: Connection, table: Any, where: Any) -> Any:
    return conn.execute(select(table).where(where)).first()


def _one(conn: Connection, table: Any, where: Any) -> Any:
    return conn.execute(select(table).where(where)).one()


def _catalog(row: Any) -> Catalog:
    return Catalog(
        name=row.name,
        owner=row.owner,
        comment=row.comment,
        creation_timestamp=row.creation_timestamp,
        last_updated_timestamp=row.last_updated_timestamp,
    )


def _schema(row: Any) -> Schema:
    return Schema(
        catalog_name=row.catalog_name,
        name=row.name,
        owner=row.owner,
        comment=row.comment,
        creation_timestamp=row.creation_timestamp,
        last_updated_timestamp=row.last_updated_timestamp,
    )
