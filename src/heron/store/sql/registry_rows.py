"""The registry's rows read back into entities, a constant number of queries for any page,
and the lookups and activity-log writes both registry stores share."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    BindParameter,
    Connection,
    Select,
    Table,
    and_,
    bindparam,
    func,
    insert,
    select,
)

from heron.clock import now_ms
from heron.entities.registry import (
    ModelVersion,
    ModelVersionStage,
    ModelVersionStatus,
    RegisteredModel,
)
from heron.errors import NotFound
from heron.store.sql.database import fetch, insert_for
from heron.store.sql.tables import (
    model_version_events,
    model_version_tags,
    model_versions,
    registered_model_aliases,
    registered_model_tags,
    registered_models,
)

rm = registered_models
mv = model_versions


def model_not_found(name: str) -> NotFound:
    return NotFound(f"Registered Model with name={name} not found")


def version_not_found(name: str, version: int | str) -> NotFound:
    return NotFound(f"Model Version (name={name}, version={version}) not found")


def model_row_id(conn: Connection, name: str) -> int:
    """The surrogate id of the model called `name`. Raises NotFound."""
    found = conn.execute(
        select(rm.c.registered_model_id).where(rm.c.name == name)
    ).scalar_one_or_none()
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

# Statements every page runs, compiled once and run on the driver (database.fetch).
_IDS: BindParameter[int] = bindparam("ids", expanding=True)
_VERSION_TAGS = select(
    model_version_tags.c.registered_model_id,
    model_version_tags.c.version,
    model_version_tags.c.key,
    model_version_tags.c.value,
).where(model_version_tags.c.registered_model_id.in_(_IDS))
# The same, narrowed to the versions on the page (served by the (model, version) key prefix).
_SOME_VERSION_TAGS = _VERSION_TAGS.where(
    model_version_tags.c.version.in_(bindparam("versions", expanding=True))
)
_ALIASES = (
    select(
        registered_model_aliases.c.registered_model_id,
        registered_model_aliases.c.version,
        registered_model_aliases.c.alias,
    )
    .where(registered_model_aliases.c.registered_model_id.in_(_IDS))
    .order_by(registered_model_aliases.c.alias)
)
_MODEL_TAGS = select(
    registered_model_tags.c.registered_model_id,
    registered_model_tags.c.key,
    registered_model_tags.c.value,
).where(registered_model_tags.c.registered_model_id.in_(_IDS))


def version_select() -> Select[Any]:
    """Every version column and its model's name (VERSION_COLUMNS), for `load_versions`."""
    return select(*VERSION_COLUMNS).join(rm, rm.c.registered_model_id == mv.c.registered_model_id)


def load_versions(conn: Connection, rows: Sequence[Any]) -> list[ModelVersion]:
    """Versions from rows of `version_select()`, with their tags and aliases (two queries)."""
    if not rows:
        return []
    wanted = {(row[0], row[1]) for row in rows}
    model_ids = sorted({model_id for model_id, _ in wanted})
    tags: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
    numbers = sorted({number for _, number in wanted})
    if len(numbers) <= 1000:
        tag_rows = _fetch_in(conn, _SOME_VERSION_TAGS, model_ids, versions=numbers)
    else:
        tag_rows = _fetch_in(conn, _VERSION_TAGS, model_ids)
    for model_id, number, key, value in tag_rows:
        if (model_id, number) in wanted:
            tags[(model_id, number)][key] = value
    aliases: dict[tuple[int, int], list[str]] = defaultdict(list)
    for model_id, number, alias in _fetch_in(conn, _ALIASES, model_ids):
        aliases[(model_id, number)].append(alias)
    return [
        version_entity(row, tags.get((row[0], row[1])) or {}, aliases.get((row[0], row[1]), ()))
        for row in rows
    ]


def version_entity(row: Any, tags: Mapping[str, str], aliases: Sequence[str]) -> ModelVersion:
    """A version from a row of `version_select()` (read by position)."""
    return ModelVersion(
        name=row[14],
        version=str(row[1]),
        creation_timestamp=row[2],
        last_updated_timestamp=row[3],
        user_id=row[4],
        current_stage=_STAGES[row[5]],
        description=row[6],
        source=row[7],
        storage_location=row[8],
        run_id=row[9],
        run_link=row[10],
        model_id=row[11],
        status=_STATUSES[row[12]],
        status_message=row[13],
        tags=tags,
        aliases=tuple(aliases),
    )


def load_models(conn: Connection, rows: Sequence[Any]) -> list[RegisteredModel]:
    """Models from `registered_models` rows, with tags, aliases and the latest version of
    each stage (four queries for any number of models)."""
    if not rows:
        return []
    ids = [row.registered_model_id for row in rows]
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    for model_id, key, value in _fetch_in(conn, _MODEL_TAGS, ids):
        tags[model_id][key] = value
    aliases: dict[int, dict[str, str]] = defaultdict(dict)
    for model_id, number, alias in _fetch_in(conn, _ALIASES, ids):
        aliases[model_id][alias] = str(number)
    latest: dict[int, list[ModelVersion]] = defaultdict(list)
    latest_rows = _latest_rows(conn, ids, ())
    for row, version in zip(latest_rows, load_versions(conn, latest_rows), strict=True):
        latest[row[0]].append(version)
    return [
        RegisteredModel(
            name=row.name,
            creation_timestamp=row.creation_timestamp,
            last_updated_timestamp=row.last_updated_timestamp,
            user_id=row.user_id,
            description=row.description,
            latest_versions=tuple(latest[row.registered_model_id]),
            tags=tags[row.registered_model_id],
            aliases=aliases[row.registered_model_id],
        )
        for row in rows
    ]


def latest_per_stage(
    conn: Connection, model_ids: Sequence[int], stages: Iterable[ModelVersionStage]
) -> list[ModelVersion]:
    """The newest version in each stage of each model, ordered by model then version."""
    return load_versions(conn, _latest_rows(conn, model_ids, stages))


def _latest_rows(
    conn: Connection, model_ids: Sequence[int], stages: Iterable[ModelVersionStage]
) -> list[Any]:
    wanted = [str(s) for s in stages]
    newest = select(
        mv.c.registered_model_id, mv.c.current_stage, func.max(mv.c.version).label("version")
    ).where(mv.c.registered_model_id.in_(model_ids))
    if wanted:
        newest = newest.where(mv.c.current_stage.in_(wanted))
    newest_q = newest.group_by(mv.c.registered_model_id, mv.c.current_stage).subquery()
    rows = conn.execute(
        version_select()
        .join(
            newest_q,
            and_(
                newest_q.c.registered_model_id == mv.c.registered_model_id,
                newest_q.c.version == mv.c.version,
            ),
        )
        .order_by(mv.c.registered_model_id, mv.c.version)
    ).all()
    return list(rows)


def _fetch_in(
    conn: Connection, statement: Select[Any], ids: Sequence[int], **params: Any
) -> list[Any]:
    """Rows of a static `statement` filtered on `_IDS` (and `params`), as plain tuples, in
    chunks under every driver's bound-parameter limit."""
    out: list[Any] = []
    for start in range(0, len(ids), 5000):
        out.extend(fetch(conn, statement, {**params, "ids": list(ids[start : start + 5000])}))
    return out
