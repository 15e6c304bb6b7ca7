"""SqlModelVersionStore: model versions, their tags, stages and activity log in SQL.

Version numbers come from the model's `last_version` counter, bumped in the transaction that
inserts the version: concurrent registrations get distinct, gapless numbers (the row lock on
PostgreSQL, the single writer on SQLite) and a deleted version's number is never handed out
again."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select, update

from heron.clock import now_ms
from heron.entities import Page, reserved
from heron.entities.registry import (
    ModelVersion,
    ModelVersionEvent,
    ModelVersionStage,
    ModelVersionStatus,
)
from heron.errors import NotFound
from heron.store.crypto.fields import PREFIX, Sealer
from heron.store.registry import NewModelVersion, RegistryQuery
from heron.store.sql import registry_search
from heron.store.sql.database import Database, plain_rows
from heron.store.sql.jobs_rows import job_state
from heron.store.sql.jobs_runs import start_for_new_version
from heron.store.sql.registry_queue import queue_event
from heron.store.sql.registry_rows import (
    load_versions,
    model_not_found,
    model_row_id,
    mv,
    named,
    record_event,
    require_version,
    rm,
    touch_version,
    upsert,
    version_not_found,
    version_select,
)
from heron.store.sql.sealed_values import refuse_sealed_keys, sealed_pairs
from heron.store.sql.tables import (
    logged_model_tags,
    logged_models,
    model_version_events,
    model_version_tags,
    registered_model_aliases,
)


class SqlModelVersionStore:
    """Model versions in SQL; tags of sensitive keys are sealed by `sealer`, in the tag table
    and in the version's activity log."""

    def __init__(self, database: Database, sealer: Sealer | None = None) -> None:
        self._db = database
        self._sealer = sealer or Sealer(None)

    def create_model_version(
        self, name: str, version: NewModelVersion, *, actor: str | None
    ) -> ModelVersion:
        def create(conn: Connection) -> ModelVersion:
            now = now_ms()
            bumped = conn.execute(
                update(rm)
                .where(named(name))
                .values(last_version=rm.c.last_version + 1, last_updated_timestamp=now)
                .returning(rm.c.registered_model_id, rm.c.last_version)
            ).first()
            if bumped is None:
                raise model_not_found(name)
            model_id, number = bumped
            conn.execute(
                insert(mv).values(
                    registered_model_id=model_id,
                    version=number,
                    creation_timestamp=now,
                    last_updated_timestamp=now,
                    user_id=actor,
                    current_stage=ModelVersionStage.NONE.value,
                    description=version.description,
                    source=version.source,
                    storage_location=version.storage_location,
                    run_id=version.run_id,
                    run_link=version.run_link,
                    model_id=version.model_id,
                    status=ModelVersionStatus.READY.value,
                )
            )
            if version.tags:
                conn.execute(
                    insert(model_version_tags),
                    [
                        {"registered_model_id": model_id, "version": number, "key": k, "value": v}
                        for k, v in sealed_pairs(self._sealer, version.tags).items()
                    ],
                )
            if version.model_id:
                _record_registration(conn, version.model_id, name, number)
            detail = {
                "source": version.source,
                "run_id": version.run_id,
                "model_id": version.model_id,
            }
            record_event(conn, model_id, number, "created", detail, actor)
            data = {
                "name": name,
                "version": str(number),
                "source": version.source,
                "run_id": version.run_id,
                "tags": dict(version.tags or {}),
                "description": version.description,
            }
            queue_event(conn, "MODEL_VERSION", "CREATED", data, self._sealer)
            # A model with a deployment job runs it for each new version, starting with it.
            start_for_new_version(conn, model_id, name, number, actor)
            return _load(conn, name, number, self._sealer)

        return self._db.write(create)

    def get_model_version(self, name: str, version: str) -> ModelVersion:
        with self._db.read() as conn:
            return _load(conn, name, int(version), self._sealer)

    def get_model_version_by_alias(self, name: str, alias: str) -> ModelVersion:
        a = registered_model_aliases
        with self._db.read() as conn:
            model_id = model_row_id(conn, name)
            number = conn.execute(
                select(a.c.version).where(a.c.registered_model_id == model_id, a.c.alias == alias)
            ).scalar_one_or_none()
            if number is None:
                raise NotFound(f"Registered model alias {alias} not found.")
            return _load(conn, name, number, self._sealer)

    def search_model_versions(self, query: RegistryQuery) -> Page[ModelVersion]:
        refuse_sealed_keys(self._sealer, ((c.entity, c.key, c.op) for c in query.filter))
        keyset = registry_search.model_versions(query)
        with self._db.read() as conn:
            rows = plain_rows(conn, keyset.select)
            versions = load_versions(conn, rows[: query.max_results], self._sealer)
        more = len(rows) > query.max_results
        return Page(versions, keyset.token_after(rows[query.max_results - 1]) if more else None)

    def update_model_version(
        self, name: str, version: str, *, description: str | None, actor: str | None
    ) -> ModelVersion:
        number = int(version)

        def change(conn: Connection) -> ModelVersion:
            model_id = require_version(conn, name, number)
            conn.execute(
                _version(model_id, number).values(
                    description=description, last_updated_timestamp=now_ms()
                )
            )
            detail = {"description": description}
            record_event(conn, model_id, number, "description_updated", detail, actor)
            return _load(conn, name, number, self._sealer)

        return self._db.write(change)

    def transition_model_version_stage(
        self,
        name: str,
        version: str,
        stage: ModelVersionStage,
        *,
        archive_existing_versions: bool,
        actor: str | None,
    ) -> ModelVersion:
        number = int(version)

        def transition(conn: Connection) -> ModelVersion:
            model_id = require_version(conn, name, number)
            now = now_ms()
            before = conn.execute(
                select(mv.c.current_stage).where(
                    mv.c.registered_model_id == model_id, mv.c.version == number
                )
            ).scalar_one()
            if archive_existing_versions:
                _archive_others(conn, model_id, number, stage, actor)
            conn.execute(
                _version(model_id, number).values(
                    current_stage=stage.value, last_updated_timestamp=now
                )
            )
            detail = {"from": before, "to": stage.value}
            record_event(conn, model_id, number, "stage_changed", detail, actor)
            data = {"name": name, "version": str(number), "stage": stage.value}
            queue_event(conn, "MODEL_VERSION", "UPDATED", data, self._sealer)
            return _load(conn, name, number, self._sealer)

        return self._db.write(transition)

    def delete_model_version(self, name: str, version: str) -> None:
        number = int(version)

        def remove(conn: Connection) -> None:
            model_id = require_version(conn, name, number)
            # Tags and aliases go with it (foreign keys); the activity log goes explicitly.
            e = model_version_events
            conn.execute(
                delete(e).where(e.c.registered_model_id == model_id, e.c.version == number)
            )
            conn.execute(
                delete(mv).where(mv.c.registered_model_id == model_id, mv.c.version == number)
            )
            conn.execute(
                update(rm)
                .where(rm.c.registered_model_id == model_id)
                .values(last_updated_timestamp=now_ms())
            )

        self._db.write(remove)

    def set_model_version_tag(
        self, name: str, version: str, key: str, value: str, *, actor: str | None
    ) -> None:
        number = int(version)

        def set_tag(conn: Connection) -> None:
            model_id = require_version(conn, name, number)
            keys = {"registered_model_id": model_id, "version": number, "key": key}
            sealed = self._sealer.seal_value(key, value)
            upsert(conn, model_version_tags, keys, {"value": sealed})
            touch_version(conn, model_id, number)
            record_event(conn, model_id, number, "tag_set", {"key": key, "value": sealed}, actor)
            data = {"name": name, "version": str(number), "key": key, "value": value}
            queue_event(conn, "MODEL_VERSION_TAG", "SET", data, self._sealer)

        self._db.write(set_tag)

    def delete_model_version_tag(
        self, name: str, version: str, key: str, *, actor: str | None
    ) -> None:
        number = int(version)

        def delete_tag(conn: Connection) -> None:
            model_id = require_version(conn, name, number)
            t = model_version_tags
            gone = conn.execute(
                delete(t).where(
                    t.c.registered_model_id == model_id, t.c.version == number, t.c.key == key
                )
            )
            if gone.rowcount == 0:
                raise NotFound(f"No tag with name {key!r} on model {name!r} version {version}")
            touch_version(conn, model_id, number)
            record_event(conn, model_id, number, "tag_deleted", {"key": key}, actor)
            data = {"name": name, "version": str(number), "key": key}
            queue_event(conn, "MODEL_VERSION_TAG", "DELETED", data, self._sealer)

        self._db.write(delete_tag)

    def add_model_version_event(
        self,
        name: str,
        version: str,
        kind: str,
        detail: Mapping[str, Any],
        *,
        actor: str | None,
    ) -> ModelVersionEvent:
        number = int(version)

        def add(conn: Connection) -> ModelVersionEvent:
            model_id = require_version(conn, name, number)
            event_id = record_event(conn, model_id, number, kind, detail, actor)
            events = _events(conn, name, model_id, number, self._sealer)
            return next(e for e in events if e.event_id == event_id)

        return self._db.write(add)

    def list_model_version_events(self, name: str, version: str) -> list[ModelVersionEvent]:
        number = int(version)
        with self._db.read() as conn:
            model_id = require_version(conn, name, number)
            return _events(conn, name, model_id, number, self._sealer)


def _record_registration(conn: Connection, model_id: str, name: str, number: int) -> None:
    """The LoggedModel's `mlflow.modelVersions` tag lists the versions made from it."""
    t = logged_model_tags
    if (
        conn.execute(
            select(logged_models.c.model_id).where(logged_models.c.model_id == model_id)
        ).first()
        is None
    ):
        return
    where = (t.c.model_id == model_id, t.c.key == reserved.MODEL_VERSIONS)
    current = conn.execute(select(t.c.value).where(*where)).scalar_one_or_none()
    try:
        listed = orjson.loads(current) if current else []
    except orjson.JSONDecodeError:
        listed = []
    entry = {"name": name, "version": str(number)}
    if not isinstance(listed, list) or entry in listed:
        return
    value = json.dumps([*listed, entry])  # MLflow's spelling: json.dumps defaults
    upsert(conn, t, {"model_id": model_id, "key": reserved.MODEL_VERSIONS}, {"value": value})


def _version(model_id: int, number: int) -> Any:
    return update(mv).where(mv.c.registered_model_id == model_id, mv.c.version == number)


def _archive_others(
    conn: Connection, model_id: int, number: int, stage: ModelVersionStage, actor: str | None
) -> None:
    """MLflow compat: moving a version to Staging/Production archives the others there."""
    others = conn.execute(
        select(mv.c.version).where(
            mv.c.registered_model_id == model_id,
            mv.c.current_stage == stage.value,
            mv.c.version != number,
        )
    ).scalars()
    for other in list(others):
        conn.execute(
            _version(model_id, other).values(
                current_stage=ModelVersionStage.ARCHIVED.value, last_updated_timestamp=now_ms()
            )
        )
        detail = {"from": stage.value, "to": ModelVersionStage.ARCHIVED.value}
        record_event(conn, model_id, other, "stage_changed", detail, actor)


def _load(conn: Connection, name: str, number: int, sealer: Sealer) -> ModelVersion:
    rows = conn.execute(version_select().where(named(name), mv.c.version == number)).all()
    if not rows:
        model_row_id(conn, name)  # NotFound for the model first, as MLflow says
        raise version_not_found(name, number)
    found = load_versions(conn, rows, sealer)[0]
    state = job_state(conn, rows[0][0], number)
    return found if state is None else dataclasses.replace(found, deployment_job_state=state)


def _events(
    conn: Connection, name: str, model_id: int, number: int, sealer: Sealer
) -> list[ModelVersionEvent]:
    e = model_version_events
    rows = conn.execute(
        select(e)
        .where(e.c.registered_model_id == model_id, e.c.version == number)
        .order_by(e.c.event_id)
    ).all()
    return [
        ModelVersionEvent(
            event_id=row.event_id,
            name=name,
            version=str(number),
            timestamp=row.timestamp,
            user_id=row.user_id,
            kind=row.kind,
            detail=_opened_detail(sealer, orjson.loads(row.detail)),
        )
        for row in rows
    ]


def _opened_detail(sealer: Sealer, detail: Any) -> Any:
    """An event's detail with the value of a tag of a sensitive key (a `tag_set`) opened."""
    value = detail.get("value") if isinstance(detail, dict) else None
    if isinstance(value, str) and value.startswith(PREFIX):
        what = f"The value of model version tag {detail.get('key')!r} in the activity log"
        return {**detail, "value": sealer.open(value, what)}
    return detail
