"""SqlRegisteredModelStore: registered models, their tags and aliases in SQL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from heron.clock import now_ms
from heron.entities import Page
from heron.entities.registry import ModelVersion, ModelVersionStage, RegisteredModel
from heron.errors import AlreadyExists, NotFound
from heron.store.crypto.fields import Sealer
from heron.store.registry import RegistryQuery
from heron.store.sql import registry_search
from heron.store.sql.database import Database
from heron.store.sql.jobs import require_job
from heron.store.sql.registry_queue import queue_event
from heron.store.sql.registry_rows import (
    latest_per_stage,
    load_models,
    model_not_found,
    model_row_id,
    named,
    record_event,
    require_version,
    rm,
    upsert,
)
from heron.store.sql.sealed_values import refuse_sealed_keys, sealed_pairs
from heron.store.sql.tables import registered_model_aliases, registered_model_tags
from heron.store.workspaces import new_object_workspace

aliases = registered_model_aliases


class SqlRegisteredModelStore:
    """Registered models in SQL; tags of sensitive keys are sealed by `sealer`."""

    def __init__(self, database: Database, sealer: Sealer | None = None) -> None:
        self._db = database
        self._sealer = sealer or Sealer(None)

    def create_registered_model(
        self,
        name: str,
        *,
        tags: Mapping[str, str],
        description: str | None,
        actor: str | None,
        deployment_job_id: str | None = None,
    ) -> RegisteredModel:
        def create(conn: Connection) -> RegisteredModel:
            now = now_ms()
            if deployment_job_id is not None:
                require_job(conn, deployment_job_id)
            try:
                with conn.begin_nested():
                    model_id = conn.execute(
                        insert(rm)
                        .values(
                            name=name,
                            workspace=new_object_workspace(),
                            creation_timestamp=now,
                            last_updated_timestamp=now,
                            user_id=actor,
                            description=description,
                            last_version=0,
                            deployment_job_id=deployment_job_id,
                        )
                        .returning(rm.c.registered_model_id)
                    ).scalar_one()
            except IntegrityError:
                raise AlreadyExists(f"Registered Model (name={name}) already exists.") from None
            if tags:
                conn.execute(
                    insert(registered_model_tags),
                    [
                        {"registered_model_id": model_id, "key": k, "value": v}
                        for k, v in sealed_pairs(self._sealer, tags).items()
                    ],
                )
            data = {"name": name, "tags": dict(tags), "description": description}
            queue_event(conn, "REGISTERED_MODEL", "CREATED", data, self._sealer)
            return _load(conn, name, self._sealer)

        return self._db.write(create)

    def get_registered_model(self, name: str) -> RegisteredModel:
        with self._db.read() as conn:
            return _load(conn, name, self._sealer)

    def search_registered_models(self, query: RegistryQuery) -> Page[RegisteredModel]:
        refuse_sealed_keys(self._sealer, ((c.entity, c.key, c.op) for c in query.filter))
        keyset = registry_search.registered_models(query)
        with self._db.read() as conn:
            rows = conn.execute(keyset.select).all()
            models = load_models(conn, rows[: query.max_results], self._sealer)
        more = len(rows) > query.max_results
        return Page(models, keyset.token_after(rows[query.max_results - 1]) if more else None)

    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        def rename(conn: Connection) -> RegisteredModel:
            model_id = model_row_id(conn, name)
            try:
                with conn.begin_nested():
                    conn.execute(
                        update(rm)
                        .where(rm.c.registered_model_id == model_id)
                        .values(name=new_name, last_updated_timestamp=now_ms())
                    )
            except IntegrityError:
                raise AlreadyExists(f"Registered Model (name={new_name}) already exists.") from None
            return _load(conn, new_name, self._sealer)

        return self._db.write(rename)

    def update_registered_model(
        self,
        name: str,
        *,
        description: str | None,
        set_description: bool = True,
        deployment_job_id: str | None = None,
        set_deployment_job: bool = False,
    ) -> RegisteredModel:
        def change(conn: Connection) -> RegisteredModel:
            model_id = model_row_id(conn, name)
            values: dict[str, Any] = {"last_updated_timestamp": now_ms()}
            if set_description:
                values["description"] = description
            if set_deployment_job:
                if deployment_job_id is not None:
                    require_job(conn, deployment_job_id)
                values["deployment_job_id"] = deployment_job_id
            conn.execute(update(rm).where(rm.c.registered_model_id == model_id).values(**values))
            return _load(conn, name, self._sealer)

        return self._db.write(change)

    def delete_registered_model(self, name: str) -> None:
        def remove(conn: Connection) -> None:
            # Foreign keys cascade to versions, tags, aliases and activity.
            if conn.execute(delete(rm).where(named(name))).rowcount == 0:
                raise model_not_found(name)

        self._db.write(remove)

    def set_registered_model_tag(self, name: str, key: str, value: str) -> None:
        def set_tag(conn: Connection) -> None:
            model_id = model_row_id(conn, name)
            keys = {"registered_model_id": model_id, "key": key}
            sealed = self._sealer.seal_value(key, value)
            upsert(conn, registered_model_tags, keys, {"value": sealed})
            _touch(conn, model_id)

        self._db.write(set_tag)

    def delete_registered_model_tag(self, name: str, key: str) -> None:
        def delete_tag(conn: Connection) -> None:
            model_id = model_row_id(conn, name)
            t = registered_model_tags
            gone = conn.execute(
                delete(t).where(t.c.registered_model_id == model_id, t.c.key == key)
            )
            if gone.rowcount == 0:
                raise NotFound(f"No tag with name {key!r} on registered model {name!r}")
            _touch(conn, model_id)

        self._db.write(delete_tag)

    def set_registered_model_alias(
        self, name: str, alias: str, version: str, *, actor: str | None
    ) -> None:
        number = int(version)

        def set_alias(conn: Connection) -> None:
            model_id = require_version(conn, name, number)
            data = {"name": name, "alias": alias, "version": str(number)}
            queue_event(conn, "MODEL_VERSION_ALIAS", "CREATED", data, self._sealer)
            before = conn.execute(
                select(aliases.c.version).where(
                    aliases.c.registered_model_id == model_id, aliases.c.alias == alias
                )
            ).scalar_one_or_none()
            if before == number:
                return
            keys = {"registered_model_id": model_id, "alias": alias}
            upsert(conn, aliases, keys, {"version": number})
            detail = {"alias": alias, "previous_version": None if before is None else str(before)}
            record_event(conn, model_id, number, "alias_set", detail, actor)
            if before is not None:
                moved = {"alias": alias, "new_version": version}
                record_event(conn, model_id, before, "alias_moved_away", moved, actor)
            _touch(conn, model_id)

        self._db.write(set_alias)

    def delete_registered_model_alias(self, name: str, alias: str, *, actor: str | None) -> None:
        def delete_alias(conn: Connection) -> None:
            model_id = model_row_id(conn, name)
            where = (aliases.c.registered_model_id == model_id, aliases.c.alias == alias)
            version = conn.execute(select(aliases.c.version).where(*where)).scalar_one_or_none()
            if version is None:
                raise NotFound(f"Registered model alias {alias} not found.")
            conn.execute(delete(aliases).where(*where))
            record_event(conn, model_id, version, "alias_deleted", {"alias": alias}, actor)
            queue_event(
                conn, "MODEL_VERSION_ALIAS", "DELETED", {"name": name, "alias": alias}, self._sealer
            )
            _touch(conn, model_id)

        self._db.write(delete_alias)

    def get_latest_versions(
        self, name: str, stages: Sequence[ModelVersionStage]
    ) -> list[ModelVersion]:
        with self._db.read() as conn:
            model_id = model_row_id(conn, name)
            return latest_per_stage(conn, [model_id], stages, self._sealer)


def _load(conn: Connection, name: str, sealer: Sealer) -> RegisteredModel:
    rows = conn.execute(select(rm).where(named(name))).all()
    if not rows:
        raise model_not_found(name)
    return load_models(conn, rows, sealer)[0]


def _touch(conn: Connection, model_id: int) -> None:
    conn.execute(
        update(rm)
        .where(rm.c.registered_model_id == model_id)
        .values(last_updated_timestamp=now_ms())
    )
