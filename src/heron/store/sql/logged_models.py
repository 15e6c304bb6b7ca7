"""SqlLoggedModelStore: LoggedModels with their params, tags and metrics in SQL (params and
tags of sensitive keys sealed)."""

from __future__ import annotations

import functools
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select, update

from heron.clock import now_ms
from heron.entities import (
    LifecycleStage,
    LoggedModel,
    LoggedModelMetric,
    LoggedModelRegistration,
    LoggedModelStatus,
    Page,
)
from heron.errors import InvalidParameter, NotFound
from heron.store import ids
from heron.store.crypto.fields import Sealer
from heron.store.logged_models import LoggedModelQuery
from heron.store.sql.database import Database, fetch, insert_for, run_many
from heron.store.sql.json_sql import bound_list, in_bound_list
from heron.store.sql.logged_model_search import logged_model_search
from heron.store.sql.sealed_values import opened_pairs, refuse_sealed_keys, sealed_pairs
from heron.store.sql.tables import (
    experiments,
    logged_model_metrics,
    logged_model_params,
    logged_model_tags,
    logged_models,
    model_versions,
    registered_models,
)

_ACTIVE = LifecycleStage.ACTIVE.value
_MODEL_COLUMNS = tuple(logged_models.c)  # _model reads rows of these, in this order
_EXPERIMENT = select(experiments.c.artifact_location, experiments.c.lifecycle_stage).where(
    experiments.c.experiment_id == bindparam("experiment_id")
)
_ACTIVE_MODELS = select(logged_models.c.model_id).where(
    in_bound_list(logged_models.c.model_id), logged_models.c.lifecycle_stage == _ACTIVE
)
_PARAMS_OF = select(
    logged_model_params.c.model_id, logged_model_params.c.key, logged_model_params.c.value
).where(in_bound_list(logged_model_params.c.model_id))
_TAGS_OF = select(
    logged_model_tags.c.model_id, logged_model_tags.c.key, logged_model_tags.c.value
).where(in_bound_list(logged_model_tags.c.model_id))
# The registry versions made from each model (MLflow's LoggedModelInfo.registrations).
_REGISTRATIONS_OF = (
    select(model_versions.c.model_id, registered_models.c.name, model_versions.c.version)
    .join(
        registered_models,
        registered_models.c.registered_model_id == model_versions.c.registered_model_id,
    )
    .where(in_bound_list(model_versions.c.model_id))
    .order_by(registered_models.c.name, model_versions.c.version)
)
_m = logged_model_metrics.c
_METRICS_OF = (
    select(_m.model_id, _m.key, _m.value, _m.is_nan, _m.timestamp, _m.step, _m.run_uuid,
           _m.dataset_name, _m.dataset_digest)
    .where(in_bound_list(_m.model_id))
    .order_by(_m.model_id, _m.key, _m.timestamp, _m.step, _m.run_uuid)
)  # fmt: skip


class SqlLoggedModelStore:
    def __init__(self, database: Database, sealer: Sealer | None = None) -> None:
        self._db = database
        self._sealer = sealer or Sealer(None)

    def create_logged_model(
        self,
        *,
        experiment_id: str,
        name: str,
        source_run_id: str | None,
        model_type: str | None,
        tags: Mapping[str, str],
        params: Mapping[str, str],
    ) -> LoggedModel:
        model_id = "m-" + uuid.uuid4().hex

        def create(conn: Connection) -> LoggedModel:
            found = fetch(conn, _EXPERIMENT, {"experiment_id": ids.experiment_key(experiment_id)})
            if not found:
                raise NotFound(f"No Experiment with id={experiment_id} exists")
            location, stage = found[0]
            if stage != _ACTIVE:
                raise InvalidParameter(
                    f"The experiment {experiment_id} must be in the 'active' state to create "
                    "logged models; restore it first"
                )
            now = now_ms()
            model = LoggedModel(
                model_id=model_id,
                experiment_id=experiment_id,
                name=name,
                artifact_location=f"{location.rstrip('/')}/models/{model_id}/artifacts",
                creation_timestamp=now,
                last_updated_timestamp=now,
                model_type=model_type,
                source_run_id=source_run_id,
                tags=dict(tags),
                params=dict(params),
            )
            conn.execute(
                logged_models.insert().values(
                    model_id=model_id,
                    experiment_id=ids.experiment_key(experiment_id),
                    name=name,
                    artifact_location=model.artifact_location,
                    creation_timestamp_ms=now,
                    last_updated_timestamp_ms=now,
                    status=model.status.value,
                    status_message=None,
                    lifecycle_stage=_ACTIVE,
                    model_type=model_type,
                    source_run_id=source_run_id,
                )
            )
            _upsert_tags(conn, model_id, sealed_pairs(self._sealer, tags))
            _insert_params(conn, model_id, params, self._sealer)
            return model

        return self._db.write(create)

    def get_logged_model(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        where = [logged_models.c.model_id == model_id]
        if not allow_deleted:
            where.append(logged_models.c.lifecycle_stage == _ACTIVE)
        with self._db.read() as conn:
            rows = conn.execute(select(*_MODEL_COLUMNS).where(*where)).all()
            if not rows:
                raise _not_found(model_id)
            return load_models(conn, rows, self._sealer)[0]

    def finalize_logged_model(self, model_id: str, status: LoggedModelStatus) -> LoggedModel:
        def finalize(conn: Connection) -> None:
            _touch(conn, model_id, status=status.value)

        self._db.write(finalize)
        return self.get_logged_model(model_id)

    def set_logged_model_tags(self, model_id: str, tags: Mapping[str, str]) -> None:
        def set_tags(conn: Connection) -> None:
            require_models(conn, [model_id])
            _upsert_tags(conn, model_id, sealed_pairs(self._sealer, tags))

        self._db.write(set_tags)

    def delete_logged_model_tag(self, model_id: str, key: str) -> None:
        def delete_tag(conn: Connection) -> None:
            require_models(conn, [model_id])
            gone = conn.execute(
                delete(logged_model_tags).where(
                    logged_model_tags.c.model_id == model_id, logged_model_tags.c.key == key
                )
            )
            if gone.rowcount == 0:
                raise NotFound(f"No tag with key {key!r} on logged model {model_id!r}")

        self._db.write(delete_tag)

    def log_logged_model_params(self, model_id: str, params: Mapping[str, str]) -> None:
        def log(conn: Connection) -> None:
            require_models(conn, [model_id])
            _insert_params(conn, model_id, params, self._sealer)

        self._db.write(log)

    def delete_logged_model(self, model_id: str) -> None:
        def remove(conn: Connection) -> None:
            _touch(conn, model_id, lifecycle_stage=LifecycleStage.DELETED.value)

        self._db.write(remove)

    def search_logged_models(self, query: LoggedModelQuery) -> Page[LoggedModel]:
        refuse_sealed_keys(self._sealer, ((c.entity, c.key, c.op) for c in query.filter))
        statement = logged_model_search(query)
        with self._db.read() as conn:
            rows = conn.execute(statement.select).all()
            page_rows = rows[: query.max_results]
            models = [row[: len(_MODEL_COLUMNS)] for row in page_rows]
            found = load_models(conn, models, self._sealer)
        token = None
        if len(rows) > query.max_results:
            token = statement.next_token(rows[query.max_results - 1])
        return Page(found, token)


def _not_found(model_id: str) -> NotFound:
    return NotFound(f"Logged model with ID {model_id!r} not found")


def require_models(conn: Connection, model_ids: Iterable[str]) -> None:
    """Raises NotFound unless every one of `model_ids` is an active logged model."""
    wanted = set(model_ids)
    if not wanted:
        return
    found = {row[0] for row in fetch(conn, _ACTIVE_MODELS, {"ids": bound_list(sorted(wanted))})}
    for model_id in sorted(wanted - found):
        raise _not_found(model_id)


def _touch(conn: Connection, model_id: str, **values: Any) -> None:
    changed = conn.execute(
        update(logged_models)
        .where(logged_models.c.model_id == model_id, logged_models.c.lifecycle_stage == _ACTIVE)
        .values(last_updated_timestamp_ms=now_ms(), **values)
    )
    if changed.rowcount == 0:
        raise _not_found(model_id)


def _upsert_tags(conn: Connection, model_id: str, tags: Mapping[str, str]) -> None:
    if not tags:
        return
    stmt = insert_for(conn, logged_model_tags)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["model_id", "key"], set_={"value": stmt.excluded.value}
        ),
        [{"model_id": model_id, "key": k, "value": v} for k, v in tags.items()],
    )


_EXISTING_PARAMS = select(logged_model_params.c.key, logged_model_params.c.value).where(
    logged_model_params.c.model_id == bindparam("model_id"),
    in_bound_list(logged_model_params.c.key, "keys"),
)


def _insert_params(
    conn: Connection, model_id: str, params: Mapping[str, str], sealer: Sealer
) -> None:
    if not params:
        return
    rows = conn.execute(_EXISTING_PARAMS, {"model_id": model_id, "keys": bound_list(params)})
    existing = opened_pairs(sealer, dict(rows.all()), "logged model param").items()
    for key, value in existing:
        if params[key] != value:
            raise InvalidParameter(
                f"Changing param values is not allowed. Param with key={key!r} was already "
                f"logged with value={value!r} for logged model {model_id!r}. Attempted logging "
                f"new value {params[key]!r}."
            )
    logged = {key for key, _ in existing}
    fresh = sealed_pairs(sealer, {k: v for k, v in params.items() if k not in logged})
    new = [{"model_id": model_id, "key": k, "value": v} for k, v in fresh.items()]
    if new:
        conn.execute(logged_model_params.insert(), new)


@functools.cache
def _insert_metric(dialect: str) -> Any:
    """Built once per dialect: run_many caches the compiled form by statement identity."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    return insert(logged_model_metrics).on_conflict_do_nothing()


def insert_model_metrics(
    conn: Connection, run_id: str, points: Sequence[LoggedModelMetric]
) -> None:
    """Links metric points a run logged to their models (the points are also run metrics).

    Raises NotFound when a point names a model that does not exist."""
    require_models(conn, (p.model_id for p in points))
    run_many(
        conn,
        _insert_metric(conn.dialect.name),
        [
            {
                "model_id": p.model_id,
                "key": p.key,
                "dataset_name": p.dataset_name or "",
                "dataset_digest": p.dataset_digest or "",
                "run_uuid": run_id,
                "step": p.step,
                "timestamp": p.timestamp,
                "value": p.value if p.value == p.value else 0.0,  # NaN is stored as is_nan
                "is_nan": p.value != p.value,
            }
            for p in points
        ],
    )


def load_models(
    conn: Connection, rows: Sequence[Sequence[Any]], sealer: Sealer
) -> list[LoggedModel]:
    """Models with their params, tags and metrics in a constant number of queries (sealed
    values opened). `rows` are rows of logged_models' columns, in table order."""
    ids = [row[0] for row in rows]
    if not ids:
        return []
    bound = {"ids": bound_list(ids)}
    params: dict[str, dict[str, str]] = defaultdict(dict)
    for model_id, key, value in fetch(conn, _PARAMS_OF, bound):
        params[model_id][key] = value
    tags: dict[str, dict[str, str]] = defaultdict(dict)
    for model_id, key, value in fetch(conn, _TAGS_OF, bound):
        tags[model_id][key] = value
    metrics: dict[str, list[LoggedModelMetric]] = defaultdict(list)
    for model_id, key, value, is_nan, timestamp, step, run_uuid, name, digest in fetch(
        conn, _METRICS_OF, bound
    ):
        metrics[model_id].append(
            LoggedModelMetric(
                key=key,
                value=float("nan") if is_nan else value,
                timestamp=timestamp,
                step=step,
                model_id=model_id,
                run_id=run_uuid,
                dataset_name=name or None,
                dataset_digest=digest or None,
            )
        )
    registrations: dict[str, list[LoggedModelRegistration]] = defaultdict(list)
    for model_id, name, version in fetch(conn, _REGISTRATIONS_OF, bound):
        registrations[model_id].append(LoggedModelRegistration(name=name, version=str(version)))
    for pairs in (*params.values(), *tags.values()):
        opened_pairs(sealer, pairs, "logged model param or tag")
    return [
        _model(row, tags[row[0]], params[row[0]], metrics[row[0]], registrations[row[0]])
        for row in rows
    ]


def _model(
    row: Sequence[Any],
    tags: Mapping[str, str],
    params: Mapping[str, str],
    metrics: Sequence[LoggedModelMetric],
    registrations: Sequence[LoggedModelRegistration],
) -> LoggedModel:
    (model_id, experiment_id, name, artifact_location, created, updated, status, message,
     stage, model_type, source_run_id) = row[: len(_MODEL_COLUMNS)]  # fmt: skip
    return LoggedModel(
        model_id=model_id,
        experiment_id=str(experiment_id),
        name=name,
        artifact_location=artifact_location,
        creation_timestamp=created,
        last_updated_timestamp=updated,
        status=LoggedModelStatus(status),
        status_message=message,
        model_type=model_type,
        source_run_id=source_run_id,
        lifecycle_stage=LifecycleStage(stage),
        tags=dict(tags),
        params=dict(params),
        metrics=metrics,
        registrations=registrations,
    )
