"""SqlRunStore's writes: the statements every logging request runs, and their helpers."""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    and_,
    bindparam,
    or_,
    select,
    update,
)

from heron import mlflow_json
from heron.entities import (
    Dataset,
    LifecycleStage,
    Metric,
    MetricColumns,
    Param,
    RunTag,
    reserved,
)
from heron.errors import InvalidParameter, NotFound
from heron.store.crypto.fields import Sealer
from heron.store.sql.database import fetch, insert_rows, run, run_many
from heron.store.sql.json_sql import bound_list, in_bound_list
from heron.store.sql.sealed_values import sealed_pairs
from heron.store.sql.tables import (
    datasets,
    experiments,
    latest_metrics,
    metrics,
    params,
    runs,
    tags,
)

_REQUIRE_ACTIVE = select(runs.c.experiment_id, runs.c.lifecycle_stage).where(
    runs.c.run_uuid == bindparam("run_id")
)
_PARAMS_WITH_KEYS = select(params.c.key, params.c.value).where(
    params.c.run_uuid == bindparam("run_id"), in_bound_list(params.c.key, "keys")
)
_RENAME_RUN = (
    update(runs).where(runs.c.run_uuid == bindparam("run_id")).values(name=bindparam("name"))
)
INSERT_RUN = runs.insert()
EXPERIMENT_OF_NEW_RUN = select(
    experiments.c.artifact_location, experiments.c.lifecycle_stage
).where(experiments.c.experiment_id == bindparam("experiment_id"))


def require_active(conn: Connection, run_id: str) -> int:
    """The run's experiment id; raises unless the run exists and is active."""
    found = fetch(conn, _REQUIRE_ACTIVE, {"run_id": run_id})
    if not found:
        raise NotFound(f"Run with id={run_id} not found")
    experiment_id, lifecycle_stage = found[0]
    if lifecycle_stage != LifecycleStage.ACTIVE.value:
        raise InvalidParameter(
            f"The run {run_id} must be in the 'active' state. Current state is "
            f"{lifecycle_stage}; restore it first."
        )
    return int(experiment_id)


def insert_params(conn: Connection, run_id: str, new: Sequence[Param], sealer: Sealer) -> None:
    """Params of sensitive keys are stored sealed (and compared opened)."""
    wanted = {p.key: p.value for p in new}
    existing = fetch(conn, _PARAMS_WITH_KEYS, {"run_id": run_id, "keys": bound_list(wanted)})
    for key, stored in existing:
        value = sealer.open(stored, f"The value of param {key!r}")
        if wanted[key] != value:
            raise InvalidParameter(
                f"Changing param values is not allowed. Param with key={key!r} was already "
                f"logged with value={value!r} for run ID={run_id!r}. Attempted logging new "
                f"value {wanted[key]!r}."
            )
    logged = {key for key, _ in existing}
    fresh = sealed_pairs(sealer, {k: v for k, v in wanted.items() if k not in logged})
    run_many(
        conn,
        hot_statements(conn.dialect.name).insert_param,
        [{"run_uuid": run_id, "key": k, "value": v} for k, v in fresh.items()],
    )


def upsert_tags(conn: Connection, run_id: str, new: Sequence[RunTag], sealer: Sealer) -> None:
    latest = {t.key: t.value for t in new}  # the last value of a key in one batch wins
    run_many(
        conn,
        hot_statements(conn.dialect.name).upsert_tag,
        [
            {"run_uuid": run_id, "key": k, "value": v}
            for k, v in sealed_pairs(sealer, latest).items()
        ],
    )
    if reserved.RUN_NAME in latest:
        run(conn, _RENAME_RUN, {"run_id": run_id, "name": latest[reserved.RUN_NAME]})


def insert_metrics(
    conn: Connection, run_id: str, experiment_id: int, points: Sequence[Metric]
) -> None:
    """Adds points to the history; the newest point of each key becomes its latest value
    (kept with the run's experiment, which the metric search index starts with)."""
    # Rows in the metrics table's column order: run_uuid, key, step, timestamp, value, is_nan.
    # NaN is the one value not equal to itself; it is stored as is_nan with value 0.
    rows = [
        (run_id, key, step, timestamp, value if value == value else 0.0, value != value)
        for key, value, timestamp, step in _columns(points)
    ]
    statements = hot_statements(conn.dialect.name)
    insert_rows(conn, statements.insert_metric, rows)
    newest: dict[str, tuple[Any, ...]] = {}
    for row in rows:
        best = newest.get(row[1])
        if best is None or row[2:5] > best[2:5]:  # (step, timestamp, value)
            newest[row[1]] = row
    # latest_metrics has the same columns, then experiment_id and the point's JSON.
    insert_rows(
        conn,
        statements.upsert_latest_metric,
        [(*row, experiment_id, point_json(*row[1:6])) for row in newest.values()],
    )


def point_json(key: str, step: int, timestamp: int, value: float, is_nan: bool) -> str:
    """A metric point as MLflow's messages write it (mlflow_json.metric): the value is the
    shortest JSON number that reads back as exactly the same double, or "NaN", "Infinity" or
    "-Infinity"."""
    point = Metric(key=key, value=math.nan if is_nan else value, timestamp=timestamp, step=step)
    return orjson.dumps(mlflow_json.metric(point)).decode()


def _columns(points: Sequence[Metric]) -> Iterable[tuple[str, float, int, int]]:
    """(key, value, timestamp, step) of each point, straight from the columns when it can."""
    if isinstance(points, MetricColumns):
        return zip(points.keys, points.values, points.timestamps, points.steps, strict=True)
    return ((m.key, m.value, m.timestamp, m.step) for m in points)


@dataclass(frozen=True, slots=True)
class _Statements:
    """The hot-path writes, built once per dialect: building a statement costs more than
    running it."""

    insert_metric: Any
    upsert_latest_metric: Any
    upsert_tag: Any
    insert_param: Any


@functools.cache
def hot_statements(dialect: str) -> _Statements:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]
    latest = insert(latest_metrics)
    ex, cur = latest.excluded, latest_metrics.c
    newer = or_(
        ex.step > cur.step,
        and_(ex.step == cur.step, ex.timestamp > cur.timestamp),
        and_(ex.step == cur.step, ex.timestamp == cur.timestamp, ex.value > cur.value),
    )
    tag = insert(tags)
    return _Statements(
        insert_metric=insert(metrics).on_conflict_do_nothing(),
        upsert_latest_metric=latest.on_conflict_do_update(
            index_elements=["run_uuid", "key"],
            set_={
                "step": ex.step,
                "timestamp": ex.timestamp,
                "value": ex.value,
                "is_nan": ex.is_nan,
                "point_json": ex.point_json,
            },
            where=newer,
        ),
        upsert_tag=tag.on_conflict_do_update(
            index_elements=["run_uuid", "key"], set_={"value": tag.excluded.value}
        ),
        insert_param=insert(params).on_conflict_do_nothing(),
    )


def dataset_id_of(conn: Connection, experiment_id: int, d: Dataset) -> str:
    where = (
        datasets.c.experiment_id == experiment_id,
        datasets.c.name == d.name,
        datasets.c.digest == d.digest,
    )
    found = conn.execute(select(datasets.c.dataset_uuid).where(*where)).scalar()
    if found is not None:
        return str(found)
    dataset_uuid = uuid.uuid4().hex
    conn.execute(
        datasets.insert().values(
            dataset_uuid=dataset_uuid,
            experiment_id=experiment_id,
            name=d.name,
            digest=d.digest,
            source_type=d.source_type,
            source=d.source,
            schema=d.schema or None,
            profile=d.profile or None,
        )
    )
    return dataset_uuid
