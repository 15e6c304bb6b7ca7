"""The registry's rows read back into entities, a constant number of queries for any page,
and the lookups and activity-log writes both registry stores share."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Select,
    Table,
    and_,
    func,
    insert,
    select,
)
from sqlalchemy.sql.elements import ColumnElement

from heron.clock import now_ms
from heron.entities.registry import (
    ModelVersion,
    ModelVersionRecords,
    ModelVersionStage,
    ModelVersionStatus,
    RegisteredModel,
    VersionRecord,
)
from heron.errors import NotFound
from heron.store.crypto.fields import PREFIX, Sealer
from heron.store.sql.database import fetch, insert_for
from heron.store.sql.json_sql import bound_list, in_bound_list
from heron.store.sql.tables import (
    model_version_events,
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)
from heron.store.sql.workspaces import in_workspace

rm = registered_models
mv = model_versions


def model_not_found(name: str) -> NotFound:
    return NotFound(f"Registered Model with name={name} not found")


def version_not_found(name: str, version: int | str) -> NotFound:
    return NotFound(f"Model Version (name={name}, version={version}) not found")


def named(name: str) -> ColumnElement[bool]:
    """The registered model called `name` in the request's workspace."""
    return (rm.c.name == name) & in_workspace(rm.c.workspace)


def model_row_id(conn: Connection, name: str) -> int:
    """The surrogate id of the model called `name`. Raises NotFound."""
    found = conn.execute(select(rm.c.registered_model_id).where(named(name))).scalar_one_or_none()
    if found is None:
        raise model_not_found(name)
    return int(found)


def require_version(conn: Connection, name: str, version: int) -> int:
    """The model's id when it has `version`. Raises NotFound."""
    model_id = model_row_id(conn, name)
    found = conn.execute(
        select(mv.c.version).where(mv.c.registered_model_id == model_id, mv.c.version == version)
    ).first()
    if found is None:
        raise version_not_found(name, version)
    return model_id


def upsert(
    conn: Connection, table: Table, keys: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    """INSERT, or UPDATE `values` of the row with the same primary key `keys`."""
    stmt = insert_for(conn, table).values(**keys, **values)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=list(keys), set_={k: stmt.excluded[k] for k in values}
        )
    )


def touch_version(conn: Connection, model_id: int, version: int) -> None:
    now = now_ms()
    conn.execute(
        mv.update()
        .where(mv.c.registered_model_id == model_id, mv.c.version == version)
        .values(last_updated_timestamp=now)
    )


def record_event(
    conn: Connection,
    model_id: int,
    version: int,
    kind: str,
    detail: Mapping[str, Any],
    actor: str | None,
) -> int:
    """Appends one entry to a version's activity log, in the caller's transaction."""
    return int(
        conn.execute(
            insert(model_version_events)
            .values(
                registered_model_id=model_id,
                version=version,
                timestamp=now_ms(),
                user_id=actor,
                kind=kind,
                detail=orjson.dumps(dict(detail)).decode(),
            )
            .returning(model_version_events.c.event_id)
        ).scalar_one()
    )


# The columns of `version_select()`, in order: rows are read by position (a page may hold
# 200,000 versions; attribute access by name cost more than the query).
VERSION_COLUMNS = (
    mv.c.registered_model_id,
    mv.c.version,
    mv.c.creation_timestamp,
    mv.c.last_updated_timestamp,
    mv.c.user_id,
    mv.c.current_stage,
    mv.c.description,
    mv.c.source,
    mv.c.storage_location,
    mv.c.run_id,
    mv.c.run_link,
    mv.c.model_id,
    mv.c.status,
    mv.c.status_message,
    rm.c.name,
)
_STAGES = {s.value: s for s in ModelVersionStage}
_STATUSES = {s.value: s for s in ModelVersionStatus}
_NO_TAGS: Mapping[str, str] = MappingProxyType({})


# Statements every page runs, compiled once and run on the driver, each id list bound as one
# parameter.
_vt, _a, _mt = model_version_tags, registered_model_aliases, registered_model_tags
_VERSION_TAGS = select(_vt.c.registered_model_id, _vt.c.version, _vt.c.key, _vt.c.value).where(
    in_bound_list(_vt.c.registered_model_id)
)  # of the versions of models `ids`
_SOME_VERSION_TAGS = _VERSION_TAGS.where(in_bound_list(_vt.c.version, "versions"))
_ALIASES = (
    select(_a.c.registered_model_id, _a.c.version, _a.c.alias)
    .where(in_bound_list(_a.c.registered_model_id))
    .order_by(_a.c.alias)
)
_MODEL_TAGS = select(_mt.c.registered_model_id, _mt.c.key, _mt.c.value).where(
    in_bound_list(_mt.c.registered_model_id)
)


def version_select() -> Select[Any]:
    """Every version column and its model's name (VERSION_COLUMNS), for `load_versions`."""
    return select(*VERSION_COLUMNS).join(rm, rm.c.registered_model_id == mv.c.registered_model_id)


def load_versions(conn: Connection, rows: Sequence[Any], sealer: Sealer) -> ModelVersionRecords:
    """Versions from rows of `version_select()` (read by position), with their tags (sealed
    values opened) and aliases (two queries for any number), as records: no object per
    version."""
    if not rows:
        return ModelVersionRecords([])
    keys = [(row[0], row[1]) for row in rows]
    wanted = set(keys)
    ids = bound_list(sorted({model_id for model_id, _ in wanted}))
    numbers = sorted({number for _, number in wanted})
    if len(numbers) <= 1000:
        versions = bound_list(numbers)
        tag_rows = fetch(conn, _SOME_VERSION_TAGS, {"ids": ids, "versions": versions})
    else:
        tag_rows = fetch(conn, _VERSION_TAGS, {"ids": ids})
    tags: dict[tuple[int, int], dict[str, str]] = {}
    for model_id, number, key, value in tag_rows:
        if (model_id, number) in wanted:
            if value.startswith(PREFIX):
                value = sealer.open(value, f"The value of model version tag {key!r}")
            tags.setdefault((model_id, number), {})[key] = value
    aliases: dict[tuple[int, int], tuple[str, ...]] = {}
    for model_id, number, alias in fetch(conn, _ALIASES, {"ids": ids}):
        aliases[(model_id, number)] = (*aliases.get((model_id, number), ()), alias)
    stages, statuses, no_tags = _STAGES, _STATUSES, _NO_TAGS
    return ModelVersionRecords(
        [
            (
                row[14],
                str(row[1]),
                row[2],
                row[3],
                stages[row[5]],
                row[7],
                row[8],
                row[4],
                row[6],
                row[9],
                row[10],
                row[11],
                statuses[row[12]],
                row[13],
                tags.get(key, no_tags),
                aliases.get(key, ()),
            )
            for row, key in zip(rows, keys, strict=True)
        ]
    )


def load_models(conn: Connection, rows: Sequence[Any], sealer: Sealer) -> list[RegisteredModel]:
    """Models from `registered_models` rows, with tags, aliases and the latest version of
    each stage (four queries for any number of models)."""
    if not rows:
        return []
    ids = [row.registered_model_id for row in rows]
    bound = {"ids": bound_list(ids)}
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    for model_id, key, value in fetch(conn, _MODEL_TAGS, bound):
        if value.startswith(PREFIX):
            value = sealer.open(value, f"The value of registered model tag {key!r}")
        tags[model_id][key] = value
    aliases: dict[int, dict[str, str]] = defaultdict(dict)
    for model_id, number, alias in fetch(conn, _ALIASES, bound):
        aliases[model_id][alias] = str(number)
    # Each model's latest versions stay records (no object per version, as for a page).
    latest: dict[int, list[VersionRecord]] = defaultdict(list)
    latest_rows = _latest_rows(conn, ids, ())
    records = load_versions(conn, latest_rows, sealer).records
    for row, record in zip(latest_rows, records, strict=True):
        latest[row[0]].append(record)
    return [
        RegisteredModel(
            name=row.name,
            creation_timestamp=row.creation_timestamp,
            last_updated_timestamp=row.last_updated_timestamp,
            user_id=row.user_id,
            description=row.description,
            latest_versions=ModelVersionRecords(latest[row.registered_model_id]),
            tags=tags[row.registered_model_id],
            aliases=aliases[row.registered_model_id],
            deployment_job_id=row.deployment_job_id,
        )
        for row in rows
    ]


def latest_per_stage(
    conn: Connection,
    model_ids: Sequence[int],
    stages: Iterable[ModelVersionStage],
    sealer: Sealer,
) -> list[ModelVersion]:
    """The newest version in each stage of each model, ordered by model then version."""
    return list(load_versions(conn, _latest_rows(conn, model_ids, stages), sealer))


def _latest_rows(
    conn: Connection, model_ids: Sequence[int], stages: Iterable[ModelVersionStage]
) -> list[Any]:
    wanted = [str(s) for s in stages]
    params: dict[str, Any] = {"ids": bound_list(model_ids)}
    if wanted:
        params["stages"] = bound_list(wanted)
    return fetch(conn, _latest_statement(bool(wanted)), params)


@functools.cache
def _latest_statement(of_stages: bool) -> Select[Any]:
    """Rows of `version_select()`: the newest version per stage of models `ids` (of `stages`
    only, when `of_stages`), by model then version."""
    newest = select(
        mv.c.registered_model_id, mv.c.current_stage, func.max(mv.c.version).label("version")
    ).where(in_bound_list(mv.c.registered_model_id))
    if of_stages:
        newest = newest.where(in_bound_list(mv.c.current_stage, "stages"))
    newest_q = newest.group_by(mv.c.registered_model_id, mv.c.current_stage).subquery()
    return (
        version_select()
        .join(
            newest_q,
            and_(
                newest_q.c.registered_model_id == mv.c.registered_model_id,
                newest_q.c.version == mv.c.version,
            ),
        )
        .order_by(mv.c.registered_model_id, mv.c.version)
    )
