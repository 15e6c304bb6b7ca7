"""SqlRunStore: runs, params, tags, metric history and dataset inputs in SQL."""

from __future__ import annotations

import base64
import functools
import math
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Connection, and_, bindparam, delete, or_, select, tuple_, update
from sqlalchemy.sql.elements import BindParameter

from heron.clock import now_ms
from heron.entities import (
    Dataset,
    DatasetInput,
    InputTag,
    LifecycleStage,
    Metric,
    Page,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
)
from heron.errors import InvalidParameter, NotFound
from heron.store.runs import MetricWithRunId, RunQuery
from heron.store.sql import search_sql
from heron.store.sql.database import Database, insert_for
from heron.store.sql.tables import (
    datasets,
    experiments,
    latest_metrics,
    metrics,
    params,
    run_input_tags,
    run_inputs,
    runs,
    tags,
)

RUN_NAME_TAG = "mlflow.runName"


class SqlRunStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    # -- runs -------------------------------------------------------------------------------

    def create_run(
        self,
        *,
        experiment_id: str,
        user_id: str,
        run_name: str,
        start_time: int,
        tags: Mapping[str, str],
    ) -> Run:
        run_id = uuid.uuid4().hex

        def create(conn: Connection) -> Run:
            exp = conn.execute(
                select(experiments.c.artifact_location, experiments.c.lifecycle_stage).where(
                    experiments.c.experiment_id == int(experiment_id)
                )
            ).first()
            if exp is None:
                raise NotFound(f"No Experiment with id={experiment_id} exists")
            if exp.lifecycle_stage != LifecycleStage.ACTIVE.value:
                # MLflow compat: a 400 INVALID_PARAMETER_VALUE, not a 500 the client retries
                raise InvalidParameter(
                    f"The experiment {experiment_id} must be in the 'active' state to create "
                    "runs; restore it first"
                )
            info = RunInfo(
                run_id=run_id,
                run_name=run_name,
                experiment_id=experiment_id,
                user_id=user_id,
                status=RunStatus.RUNNING,
                start_time=start_time,
                end_time=None,
                artifact_uri=f"{exp.artifact_location.rstrip('/')}/{run_id}/artifacts",
                lifecycle_stage=LifecycleStage.ACTIVE,
            )
            conn.execute(
                runs.insert().values(
                    run_uuid=run_id,
                    experiment_id=int(experiment_id),
                    name=run_name,
                    user_id=user_id,
                    status=info.status.value,
                    start_time=start_time,
                    end_time=None,
                    artifact_uri=info.artifact_uri,
                    lifecycle_stage=info.lifecycle_stage.value,
                )
            )
            if tags:
                conn.execute(
                    _statements(conn.dialect.name).upsert_tag,
                    [{"run_uuid": run_id, "key": k, "value": v} for k, v in tags.items()],
                )
            return Run(info=info, data=RunData(tags=dict(tags)))

        return self._db.write(create)

    def get_run(self, run_id: str) -> Run:
        with self._db.read() as conn:
            row = conn.execute(select(runs).where(runs.c.run_uuid == run_id)).first()
            if row is None:
                raise NotFound(f"Run with id={run_id} not found")
            return _load_runs(conn, [row])[0]

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo:
        def change(conn: Connection) -> RunInfo:
            _require_active(conn, run_id)
            values: dict[str, Any] = {}
            if status is not None:
                values["status"] = status.value
            if end_time is not None:
                values["end_time"] = end_time
            if run_name is not None:
                values["name"] = run_name
                _upsert_tags(conn, run_id, [RunTag(key=RUN_NAME_TAG, value=run_name)])
            if values:
                conn.execute(update(runs).where(runs.c.run_uuid == run_id).values(**values))
            row = conn.execute(select(runs).where(runs.c.run_uuid == run_id)).one()
            return _run_info(row)

        return self._db.write(change)

    def set_run_lifecycle(self, run_id: str, stage: LifecycleStage) -> None:
        def change(conn: Connection) -> None:
            deleted_time = now_ms() if stage is LifecycleStage.DELETED else None
            changed = conn.execute(
                update(runs)
                .where(runs.c.run_uuid == run_id)
                .values(lifecycle_stage=stage.value, deleted_time=deleted_time)
            )
            if changed.rowcount == 0:
                raise NotFound(f"Run with id={run_id} not found")

        self._db.write(change)

    # -- logging ----------------------------------------------------------------------------

    def log_batch(
        self,
        run_id: str,
        *,
        metrics: Sequence[Metric],
        params: Sequence[Param],
        tags: Sequence[RunTag],
    ) -> None:
        def log(conn: Connection) -> None:
            _require_active(conn, run_id)
            if params:
                _insert_params(conn, run_id, params)
            if tags:
                _upsert_tags(conn, run_id, tags)
            if metrics:
                _insert_metrics(conn, run_id, metrics)

        self._db.write(log)

    def delete_tag(self, run_id: str, key: str) -> None:
        def remove(conn: Connection) -> None:
            _require_active(conn, run_id)
            gone = conn.execute(delete(tags).where(tags.c.run_uuid == run_id, tags.c.key == key))
            if gone.rowcount == 0:
                raise NotFound(f"No tag with name {key!r} in run with id {run_id}")

        self._db.write(remove)

    def log_inputs(self, run_id: str, datasets: Sequence[DatasetInput]) -> None:
        def log(conn: Connection) -> None:
            experiment_id = _require_active(conn, run_id)
            for item in datasets:
                dataset_uuid = _dataset_uuid(conn, experiment_id, item.dataset)
                conn.execute(
                    insert_for(conn, run_inputs)
                    .values(run_uuid=run_id, dataset_uuid=dataset_uuid)
                    .on_conflict_do_nothing()
                )
                if item.tags:
                    stmt = insert_for(conn, run_input_tags)
                    conn.execute(
                        stmt.on_conflict_do_update(
                            index_elements=["run_uuid", "dataset_uuid", "key"],
                            set_={"value": stmt.excluded.value},
                        ),
                        [
                            {
                                "run_uuid": run_id,
                                "dataset_uuid": dataset_uuid,
                                "key": t.key,
                                "value": t.value,
                            }
                            for t in item.tags
                        ],
                    )

        self._db.write(log)

    # -- reading ----------------------------------------------------------------------------

    def get_metric_history(
        self, run_id: str, key: str, *, max_results: int | None, page_token: str | None
    ) -> Page[Metric]:
        order = (metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)
        stmt = (
            select(*order)
            .where(metrics.c.run_uuid == run_id, metrics.c.key == key)
            .order_by(*order)
        )
        if page_token:
            stmt = stmt.where(tuple_(*order) > tuple_(*_decode_history_token(page_token)))
        if max_results is not None:
            stmt = stmt.limit(max_results + 1)
        with self._db.read() as conn:
            if (
                conn.execute(select(runs.c.run_uuid).where(runs.c.run_uuid == run_id)).first()
                is None
            ):
                raise NotFound(f"Run with id={run_id} not found")
            rows = conn.execute(stmt).all()
        token = None
        if max_results is not None and len(rows) > max_results:
            rows = rows[:max_results]
            last = rows[-1]
            token = _encode_history_token(last.step, last.timestamp, last.value, last.is_nan)
        return Page([_metric(key, r) for r in rows], token)

    def get_metric_history_sampled(
        self,
        run_ids: Sequence[str],
        key: str,
        *,
        max_results: int,
        start_step: int | None,
        end_step: int | None,
    ) -> list[MetricWithRunId]:
        result: list[MetricWithRunId] = []
        with self._db.read() as conn:
            for run_id in run_ids:
                stmt = select(
                    metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan
                ).where(metrics.c.run_uuid == run_id, metrics.c.key == key)
                if start_step is not None and end_step is not None:
                    stmt = stmt.where(metrics.c.step.between(start_step, end_step))
                rows = conn.execute(stmt.order_by(metrics.c.step, metrics.c.timestamp)).all()
                result.extend(
                    MetricWithRunId(run_id=run_id, metric=_metric(key, r))
                    for r in _sample(rows, max_results)
                )
        return result

    def search_runs(self, query: RunQuery) -> Page[Run]:
        statement = search_sql.run_search(query)
        with self._db.read() as conn:
            rows = conn.execute(statement.select).all()
            page_rows = rows[: query.max_results]
            found = _load_runs(conn, page_rows)
        token = None
        if len(rows) > query.max_results:
            token = statement.next_token(rows[query.max_results - 1])
        return Page(found, token)


# -- writes ---------------------------------------------------------------------------------


_REQUIRE_ACTIVE = select(runs.c.experiment_id, runs.c.lifecycle_stage).where(
    runs.c.run_uuid == bindparam("run_id")
)


def _require_active(conn: Connection, run_id: str) -> int:
    """The run's experiment id; raises unless the run exists and is active."""
    row = conn.execute(_REQUIRE_ACTIVE, {"run_id": run_id}).first()
    if row is None:
        raise NotFound(f"Run with id={run_id} not found")
    if row.lifecycle_stage != LifecycleStage.ACTIVE.value:
        raise InvalidParameter(
            f"The run {run_id} must be in the 'active' state. Current state is "
            f"{row.lifecycle_stage}; restore it first."
        )
    return int(row.experiment_id)


def _insert_params(conn: Connection, run_id: str, new: Sequence[Param]) -> None:
    wanted = {p.key: p.value for p in new}
    existing = conn.execute(
        select(params.c.key, params.c.value).where(
            params.c.run_uuid == run_id, params.c.key.in_(list(wanted))
        )
    ).all()
    for key, value in existing:
        if wanted[key] != value:
            raise InvalidParameter(
                f"Changing param values is not allowed. Param with key={key!r} was already "
                f"logged with value={value!r} for run ID={run_id!r}. Attempted logging new "
                f"value {wanted[key]!r}."
            )
    fresh = [k for k in wanted if k not in {row.key for row in existing}]
    if fresh:
        conn.execute(
            insert_for(conn, params).on_conflict_do_nothing(),
            [{"run_uuid": run_id, "key": k, "value": wanted[k]} for k in fresh],
        )


def _upsert_tags(conn: Connection, run_id: str, new: Sequence[RunTag]) -> None:
    latest = {t.key: t.value for t in new}  # the last value of a key in one batch wins
    conn.execute(
        _statements(conn.dialect.name).upsert_tag,
        [{"run_uuid": run_id, "key": k, "value": v} for k, v in latest.items()],
    )
    if RUN_NAME_TAG in latest:
        conn.execute(
            update(runs).where(runs.c.run_uuid == run_id).values(name=latest[RUN_NAME_TAG])
        )


def _insert_metrics(conn: Connection, run_id: str, points: Sequence[Metric]) -> None:
    rows = [_metric_row(run_id, m) for m in points]
    statements = _statements(conn.dialect.name)
    conn.execute(statements.insert_metric, rows)
    newest: dict[str, dict[str, Any]] = {}
    for row in rows:
        best = newest.get(row["key"])
        if best is None or _rank(row) > _rank(best):
            newest[row["key"]] = row
    conn.execute(statements.upsert_latest_metric, list(newest.values()))


@dataclass(frozen=True, slots=True)
class _Statements:
    """The hot-path writes, built once per dialect: building a statement costs more than
    running it."""

    insert_metric: Any
    upsert_latest_metric: Any
    upsert_tag: Any
    insert_param: Any


@functools.cache
def _statements(dialect: str) -> _Statements:
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
            },
            where=newer,
        ),
        upsert_tag=tag.on_conflict_do_update(
            index_elements=["run_uuid", "key"], set_={"value": tag.excluded.value}
        ),
        insert_param=insert(params).on_conflict_do_nothing(),
    )


def _rank(row: Mapping[str, Any]) -> tuple[int, int, float]:
    return (row["step"], row["timestamp"], row["value"])


def _metric_row(run_id: str, m: Metric) -> dict[str, Any]:
    is_nan = math.isnan(m.value)
    return {
        "run_uuid": run_id,
        "key": m.key,
        "step": m.step,
        "timestamp": m.timestamp,
        "value": 0.0 if is_nan else m.value,
        "is_nan": is_nan,
    }


def _dataset_uuid(conn: Connection, experiment_id: int, d: Dataset) -> str:
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


# -- reads ----------------------------------------------------------------------------------


_IDS: BindParameter[str] = bindparam("ids", expanding=True)
_PARAMS_OF = select(params.c.run_uuid, params.c.key, params.c.value).where(
    params.c.run_uuid.in_(_IDS)
)
_TAGS_OF = select(tags.c.run_uuid, tags.c.key, tags.c.value).where(tags.c.run_uuid.in_(_IDS))
_LATEST_OF = select(
    latest_metrics.c.run_uuid,
    latest_metrics.c.key,
    latest_metrics.c.value,
    latest_metrics.c.timestamp,
    latest_metrics.c.step,
    latest_metrics.c.is_nan,
).where(latest_metrics.c.run_uuid.in_(_IDS))


def _load_runs(conn: Connection, rows: Sequence[Any]) -> list[Run]:
    """Runs with their data and inputs in a constant number of queries."""
    ids = [row.run_uuid for row in rows]
    if not ids:
        return []
    run_params: dict[str, dict[str, str]] = defaultdict(dict)
    for run_uuid, key, value in conn.execute(_PARAMS_OF, {"ids": ids}).all():
        run_params[run_uuid][key] = value
    run_tags: dict[str, dict[str, str]] = defaultdict(dict)
    for run_uuid, key, value in conn.execute(_TAGS_OF, {"ids": ids}).all():
        run_tags[run_uuid][key] = value
    run_metrics: dict[str, list[Metric]] = defaultdict(list)
    nan = math.nan
    for run_uuid, key, value, timestamp, step, is_nan in conn.execute(
        _LATEST_OF, {"ids": ids}
    ).all():
        run_metrics[run_uuid].append(
            Metric(key=key, value=nan if is_nan else value, timestamp=timestamp, step=step)
        )
    inputs = _inputs_of(conn, ids)
    return [
        Run(
            info=_run_info(row),
            data=RunData(
                metrics=run_metrics[row.run_uuid],
                params=run_params[row.run_uuid],
                tags=run_tags[row.run_uuid],
            ),
            dataset_inputs=inputs.get(row.run_uuid, ()),
        )
        for row in rows
    ]


def _inputs_of(conn: Connection, ids: Sequence[str]) -> dict[str, list[DatasetInput]]:
    input_tags: dict[tuple[str, str], list[InputTag]] = defaultdict(list)
    for r in conn.execute(select(run_input_tags).where(run_input_tags.c.run_uuid.in_(ids))):
        input_tags[(r.run_uuid, r.dataset_uuid)].append(InputTag(key=r.key, value=r.value))
    found: dict[str, list[DatasetInput]] = defaultdict(list)
    joined = (
        select(run_inputs.c.run_uuid, datasets)
        .join(datasets, datasets.c.dataset_uuid == run_inputs.c.dataset_uuid)
        .where(run_inputs.c.run_uuid.in_(ids))
    )
    for r in conn.execute(joined):
        found[r.run_uuid].append(
            DatasetInput(
                dataset=Dataset(
                    name=r.name,
                    digest=r.digest,
                    source_type=r.source_type,
                    source=r.source,
                    schema=r.schema or "",
                    profile=r.profile or "",
                ),
                tags=input_tags[(r.run_uuid, r.dataset_uuid)],
            )
        )
    return found


def _run_info(row: Any) -> RunInfo:
    return RunInfo(
        run_id=row.run_uuid,
        run_name=row.name,
        experiment_id=str(row.experiment_id),
        user_id=row.user_id,
        status=RunStatus(row.status),
        start_time=row.start_time,
        end_time=row.end_time,
        artifact_uri=row.artifact_uri,
        lifecycle_stage=LifecycleStage(row.lifecycle_stage),
    )


def _metric(key: str, row: Any) -> Metric:
    value = math.nan if row.is_nan else float(row.value)
    return Metric(key=key, value=value, timestamp=row.timestamp, step=row.step)


def _sample(rows: Sequence[Any], max_results: int) -> list[Any]:
    """At most `max_results` steps spread evenly over the range, the first and last always
    in, plus the points holding the smallest and the largest value."""
    steps = sorted({r.step for r in rows})
    if len(steps) <= max_results:
        return list(rows)
    if max_results == 1:
        keep = {steps[-1]}
    else:
        keep = {steps[round(i * (len(steps) - 1) / (max_results - 1))] for i in range(max_results)}
    finite = [r for r in rows if not r.is_nan]
    extremes = set()
    if finite:
        extremes = {id(min(finite, key=lambda r: r.value)), id(max(finite, key=lambda r: r.value))}
    return [r for r in rows if r.step in keep or id(r) in extremes]


def _encode_history_token(step: int, timestamp: int, value: float, is_nan: bool) -> str:
    raw = orjson.dumps([step, timestamp, value, bool(is_nan)])
    return base64.urlsafe_b64encode(raw).decode()


def _decode_history_token(token: str) -> tuple[int, int, float, bool]:
    try:
        step, timestamp, value, is_nan = orjson.loads(base64.urlsafe_b64decode(token))
        if not (
            isinstance(step, int)
            and isinstance(timestamp, int)
            and isinstance(value, int | float)
            and isinstance(is_nan, bool)
        ):
            raise ValueError(token)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise InvalidParameter(
            f"Invalid page_token {token!r}: pass back the token you were given"
        ) from None
    return step, timestamp, float(value), is_nan
