"""SqlPurgeStore: finds soft-deleted runs, logged models and experiments, and deletes their
rows for good (the foreign keys cascade to params, metrics, tags and inputs)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Select, delete, or_, select

from heron.entities import LifecycleStage
from heron.entities.deleted import Deleted, DeletedKind
from heron.errors import InvalidParameter, NotFound
from heron.store import ids
from heron.store.sql.database import Database
from heron.store.sql.tables import experiments, logged_models, run_model_outputs, runs
from heron.store.sql.tables_rollups import ROLLUP_TABLES

_DELETED = LifecycleStage.DELETED.value


class SqlPurgeStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def find_deleted(
        self,
        *,
        deleted_before: int | None = None,
        experiment_ids: Sequence[str] = (),
        run_ids: Sequence[str] = (),
    ) -> list[Deleted]:
        chosen = bool(experiment_ids or run_ids)
        with self._db.read() as conn:
            experiment_keys = [_experiment_key(conn, e) for e in experiment_ids]
            for run_id in run_ids:
                _require_deleted_run(conn, run_id)
            gone_experiments = select(experiments.c.experiment_id).where(
                experiments.c.lifecycle_stage == _DELETED
            )
            if chosen:
                gone_experiments = gone_experiments.where(
                    experiments.c.experiment_id.in_(experiment_keys)
                )
            if deleted_before is not None:
                gone_experiments = gone_experiments.where(
                    experiments.c.last_update_time < deleted_before
                )
            # A run goes when it was deleted itself, or its experiment goes.
            run_query = select(
                runs.c.run_uuid, runs.c.experiment_id, runs.c.artifact_uri, runs.c.deleted_time
            ).where(
                or_(
                    _deleted_since(
                        runs.c.lifecycle_stage == _DELETED,
                        runs.c.deleted_time,
                        deleted_before,
                        runs.c.run_uuid.in_(run_ids) if chosen else None,
                    ),
                    runs.c.experiment_id.in_(gone_experiments),
                )
            )
            model_query = select(
                logged_models.c.model_id,
                logged_models.c.experiment_id,
                logged_models.c.artifact_location,
                logged_models.c.last_updated_timestamp_ms,
            ).where(
                or_(
                    _deleted_since(
                        logged_models.c.lifecycle_stage == _DELETED,
                        logged_models.c.last_updated_timestamp_ms,
                        deleted_before,
                        # chosen runs take the deleted models they produced with them
                        logged_models.c.model_id.in_(
                            select(run_model_outputs.c.model_id).where(
                                run_model_outputs.c.run_uuid.in_(run_ids)
                            )
                        )
                        if chosen
                        else None,
                    ),
                    logged_models.c.experiment_id.in_(gone_experiments),
                )
            )
            experiment_query = select(
                experiments.c.experiment_id,
                experiments.c.experiment_id.label("owner"),
                experiments.c.artifact_location,
                experiments.c.last_update_time,
            ).where(experiments.c.experiment_id.in_(gone_experiments))
            found = [
                *_items(conn, run_query, DeletedKind.RUN),
                *_items(conn, model_query, DeletedKind.LOGGED_MODEL),
                *_items(conn, experiment_query, DeletedKind.EXPERIMENT),
            ]
        return found

    def purge(self, item: Deleted) -> None:
        table, key = {
            DeletedKind.RUN: (runs, runs.c.run_uuid),
            DeletedKind.LOGGED_MODEL: (logged_models, logged_models.c.model_id),
            DeletedKind.EXPERIMENT: (experiments, experiments.c.experiment_id),
        }[item.kind]
        value: Any = int(item.id) if item.kind is DeletedKind.EXPERIMENT else item.id

        def write(conn: Connection) -> None:
            conn.execute(delete(table).where(key == value))
            if item.kind is DeletedKind.EXPERIMENT:  # its traces' triggers dropped the marks
                for rollup in ROLLUP_TABLES:
                    conn.execute(delete(rollup).where(rollup.c.experiment_id == value))

        self._db.write(write)


def _deleted_since(stage: Any, deleted_time: Any, before: int | None, chosen: Any) -> Any:
    condition = stage
    if before is not None:
        condition = condition & (deleted_time < before)
    if chosen is not None:
        condition = condition & chosen
    return condition


def _items(conn: Connection, query: Select[Any], kind: DeletedKind) -> list[Deleted]:
    return [
        Deleted(
            kind=kind,
            id=str(key),
            experiment_id=str(experiment_id),
            artifact_uri=uri,
            deleted_time=int(when or 0),
        )
        for key, experiment_id, uri, when in conn.execute(query)
    ]


def _experiment_key(conn: Connection, experiment_id: str) -> int:
    key = ids.experiment_key(experiment_id)
    stage = conn.execute(
        select(experiments.c.lifecycle_stage).where(experiments.c.experiment_id == key)
    ).scalar()
    if stage is None:
        raise NotFound(f"No experiment with id {experiment_id}")
    if stage != _DELETED:
        raise InvalidParameter(
            f"Experiment {experiment_id} is not deleted: delete it before removing it for good"
        )
    return key


def _require_deleted_run(conn: Connection, run_id: str) -> None:
    stage = conn.execute(select(runs.c.lifecycle_stage).where(runs.c.run_uuid == run_id)).scalar()
    if stage is None:
        raise NotFound(f"No run with id {run_id}")
    if stage != _DELETED:
        raise InvalidParameter(
            f"Run {run_id} is not deleted: delete it before removing it for good"
        )
