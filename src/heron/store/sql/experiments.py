"""SqlExperimentStore: experiments and their tags in SQL (tags of sensitive keys sealed)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from heron.clock import now_ms
from heron.entities import Experiment, LifecycleStage, Page
from heron.errors import AlreadyExists, NotFound
from heron.store import ids
from heron.store.crypto.fields import Sealer
from heron.store.experiments import ExperimentQuery
from heron.store.sql import tracking_search
from heron.store.sql.database import Database, insert_for
from heron.store.sql.json_sql import bound_list, in_bound_list
from heron.store.sql.sealed_values import opened_pairs, refuse_sealed_keys, sealed_pairs
from heron.store.sql.tables import experiment_tags, experiments, runs
from heron.store.sql.workspaces import in_workspace
from heron.store.workspaces import current_workspace, new_object_workspace

DEFAULT_EXPERIMENT_ID = "0"
DEFAULT_EXPERIMENT_NAME = "Default"


class SqlExperimentStore:
    def __init__(
        self, database: Database, *, default_artifact_root: str, sealer: Sealer | None = None
    ) -> None:
        self._db = database
        self._root = default_artifact_root.rstrip("/")
        self._sealer = sealer or Sealer(None)

    def ensure_default_experiment(self) -> None:
        """Experiment `0` ("Default") exists on every database, as MLflow clients expect."""
        with self._db.read() as conn:
            if conn.execute(
                select(experiments.c.experiment_id).where(experiments.c.experiment_id == 0)
            ).first():
                return

        def create(conn: Connection) -> None:
            if conn.execute(
                select(experiments.c.experiment_id).where(experiments.c.experiment_id == 0)
            ).first():
                return
            now = now_ms()
            # Several server workers start on a new database at once: the first insert wins,
            # the others (which saw no row yet) find it there and do nothing.
            conn.execute(
                insert_for(conn, experiments)
                .values(
                    experiment_id=0,
                    name=DEFAULT_EXPERIMENT_NAME,
                    artifact_location=f"{self._root}/0",
                    lifecycle_stage=LifecycleStage.ACTIVE.value,
                    creation_time=now,
                    last_update_time=now,
                )
                .on_conflict_do_nothing()
            )

        self._db.write(create)

    def create_experiment(
        self,
        name: str,
        *,
        artifact_location: str | None,
        tags: Mapping[str, str],
        artifact_root: str | None = None,
    ) -> str:
        root = (artifact_root or self._root).rstrip("/")

        def create(conn: Connection) -> str:
            now = now_ms()
            try:
                with conn.begin_nested():
                    new_id = conn.execute(
                        insert(experiments)
                        .values(
                            name=name,
                            workspace=new_object_workspace(),
                            artifact_location=artifact_location or "",
                            lifecycle_stage=LifecycleStage.ACTIVE.value,
                            creation_time=now,
                            last_update_time=now,
                        )
                        .returning(experiments.c.experiment_id)
                    ).scalar_one()
            except IntegrityError:
                raise AlreadyExists(f"Experiment(name={name}) already exists.") from None
            if not artifact_location:
                conn.execute(
                    update(experiments)
                    .where(experiments.c.experiment_id == new_id)
                    .values(artifact_location=f"{root}/{new_id}")
                )
            if tags:
                conn.execute(
                    insert(experiment_tags),
                    [
                        {"experiment_id": new_id, "key": k, "value": v}
                        for k, v in sealed_pairs(self._sealer, tags).items()
                    ],
                )
            return str(new_id)

        return self._db.write(create)

    def get_experiment(self, experiment_id: str) -> Experiment:
        with self._db.read() as conn:
            found = _load(
                conn,
                (experiments.c.experiment_id == ids.experiment_key(experiment_id))
                & in_workspace(experiments.c.workspace),
                self._sealer,
            )
        if not found:
            raise NotFound(f"No Experiment with id={experiment_id} exists")
        return found[0]

    def get_experiment_by_name(self, name: str) -> Experiment | None:
        with self._db.read() as conn:
            found = _load(
                conn,
                (experiments.c.name == name) & in_workspace(experiments.c.workspace),
                self._sealer,
            )
        return found[0] if found else None

    def search_experiments(self, query: ExperimentQuery) -> Page[Experiment]:
        refuse_sealed_keys(self._sealer, ((c.entity, c.key, c.op) for c in query.filter))
        statement = tracking_search.experiment_search(query)
        with self._db.read() as conn:
            rows = conn.execute(statement.select).all()
            page_rows = rows[: query.max_results]
            ids = [row.experiment_id for row in page_rows]
            tags = _tags_of(conn, ids, self._sealer)
        token = (
            statement.next_token(rows[query.max_results - 1])
            if len(rows) > query.max_results
            else None
        )
        return Page([_experiment(row, tags[row.experiment_id]) for row in page_rows], token)

    def rename_experiment(self, experiment_id: str, new_name: str) -> None:
        def rename(conn: Connection) -> None:
            try:
                with conn.begin_nested():
                    changed = conn.execute(
                        update(experiments)
                        .where(experiments.c.experiment_id == ids.experiment_key(experiment_id))
                        .values(name=new_name, last_update_time=now_ms())
                    )
            except IntegrityError:
                raise AlreadyExists(f"Experiment(name={new_name}) already exists.") from None
            if changed.rowcount == 0:
                raise NotFound(f"No Experiment with id={experiment_id} exists")

        self._db.write(rename)

    def set_experiment_lifecycle(self, experiment_id: str, stage: LifecycleStage) -> None:
        if experiment_id == DEFAULT_EXPERIMENT_ID and stage is LifecycleStage.DELETED:
            # MLflow compat: the Default experiment cannot be deleted.
            from heron.errors import InvalidParameter

            raise InvalidParameter("The Default experiment (id 0) cannot be deleted")

        def change(conn: Connection) -> None:
            now = now_ms()
            changed = conn.execute(
                update(experiments)
                .where(experiments.c.experiment_id == ids.experiment_key(experiment_id))
                .values(lifecycle_stage=stage.value, last_update_time=now)
            )
            if changed.rowcount == 0:
                raise NotFound(f"No Experiment with id={experiment_id} exists")
            other = (
                LifecycleStage.ACTIVE if stage is LifecycleStage.DELETED else LifecycleStage.DELETED
            )
            conn.execute(
                update(runs)
                .where(
                    runs.c.experiment_id == ids.experiment_key(experiment_id),
                    runs.c.lifecycle_stage == other.value,
                )
                .values(
                    lifecycle_stage=stage.value,
                    deleted_time=now if stage is LifecycleStage.DELETED else None,
                )
            )

        self._db.write(change)

    def set_experiment_tag(self, experiment_id: str, key: str, value: str) -> None:
        def set_tag(conn: Connection) -> None:
            _require(conn, experiment_id)
            conn.execute(_upsert(conn, experiment_id, key, self._sealer.seal_value(key, value)))

        self._db.write(set_tag)

    def delete_experiment_tag(self, experiment_id: str, key: str) -> None:
        def delete_tag(conn: Connection) -> None:
            _require(conn, experiment_id)
            gone = conn.execute(
                delete(experiment_tags).where(
                    experiment_tags.c.experiment_id == ids.experiment_key(experiment_id),
                    experiment_tags.c.key == key,
                )
            )
            if gone.rowcount == 0:
                raise NotFound(f"No tag with name {key!r} in experiment {experiment_id}")

        self._db.write(delete_tag)


def _require(conn: Connection, experiment_id: str) -> None:
    stage = conn.execute(
        select(experiments.c.lifecycle_stage).where(
            experiments.c.experiment_id == ids.experiment_key(experiment_id)
        )
    ).scalar()
    if stage is None:
        raise NotFound(f"No Experiment with id={experiment_id} exists")


def _upsert(conn: Connection, experiment_id: str, key: str, value: str) -> Any:
    stmt = insert_for(conn, experiment_tags).values(
        experiment_id=ids.experiment_key(experiment_id), key=key, value=value
    )
    return stmt.on_conflict_do_update(
        index_elements=["experiment_id", "key"], set_={"value": stmt.excluded.value}
    )


def _load(conn: Connection, where: Any, sealer: Sealer) -> list[Experiment]:
    rows = conn.execute(select(experiments).where(where)).all()
    tags = _tags_of(conn, [row.experiment_id for row in rows], sealer)
    return [_experiment(row, tags[row.experiment_id]) for row in rows]


_TAGS_OF = select(experiment_tags).where(in_bound_list(experiment_tags.c.experiment_id))


def _tags_of(conn: Connection, ids: Sequence[int], sealer: Sealer) -> dict[int, dict[str, str]]:
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    if ids:
        for row in conn.execute(_TAGS_OF, {"ids": bound_list(ids)}):
            tags[row.experiment_id][row.key] = row.value
    for pairs in tags.values():
        opened_pairs(sealer, pairs, "experiment tag")
    return tags


def _experiment(row: Any, tags: Mapping[str, str]) -> Experiment:
    return Experiment(
        experiment_id=str(row.experiment_id),
        name=row.name,
        artifact_location=row.artifact_location,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
        creation_time=row.creation_time,
        last_update_time=row.last_update_time,
        tags=dict(tags),
        workspace=row.workspace if current_workspace() is not None else None,
    )
