"""SqlRunStore: runs, params, tags, metric history and dataset inputs in SQL."""

from __future__ import annotations

import base64
import functools
import math
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Select,
    Table,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from heron.clock import now_ms
from heron.entities import (
    Dataset,
    DatasetInput,
    DatasetSummary,
    InputTag,
    LifecycleStage,
    Metric,
    MetricColumns,
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
from heron.store.sql.database import Database, fetch, insert_for, run, run_many
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
            found = fetch(conn, _EXPERIMENT_OF_NEW_RUN, {"experiment_id": int(experiment_id)})
            if not found:
                raise NotFound(f"No Experiment with id={experiment_id} exists")
            artifact_location, lifecycle_stage = found[0]
            if lifecycle_stage != LifecycleStage.ACTIVE.value:
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
                artifact_uri=f"{artifact_location.rstrip('/')}/{run_id}/artifacts",
                lifecycle_stage=LifecycleStage.ACTIVE,
            )
            run(
                conn,
                _INSERT_RUN,
                {
                    "run_uuid": run_id,
                    "experiment_id": int(experiment_id),
                    "name": run_name,
                    "user_id": user_id,
                    "status": info.status.value,
                    "start_time": start_time,
                    "end_time": None,
                    "artifact_uri": info.artifact_uri,
                    "lifecycle_stage": info.lifecycle_stage.value,
                    "deleted_time": None,
                },
            )
            run_many(
                conn,
                _statements(conn.dialect.name).upsert_tag,
                [{"run_uuid": run_id, "key": k, "value": v} for k, v in tags.items()],
            )
            return Run(info=info, data=RunData(tags=dict(tags)))

        return self._db.write(create)

    def get_run(self, run_id: str) -> Run:
        with self._db.read() as conn:
            rows = fetch(conn, _RUN_BY_ID, {"run_id": run_id})
            if not rows:
                raise NotFound(f"Run with id={run_id} not found")
            return _load_runs(conn, rows)[0]

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
        after = _decode_history_token(page_token) if page_token else _HISTORY_START
        limit = _NO_LIMIT if max_results is None else max_results + 1
        with self._db.read() as conn:
            if not fetch(conn, _RUN_EXISTS, {"run_id": run_id}):
                raise NotFound(f"Run with id={run_id} not found")
            rows = fetch(
                conn,
                _HISTORY,
                {
                    "run_id": run_id,
                    "key": key,
                    "s": after[0],
                    "t": after[1],
                    "v": after[2],
                    "n": after[3],
                    "limit": limit,
                },
            )
        token = None
        if max_results is not None and len(rows) > max_results:
            rows = rows[:max_results]
            token = _encode_history_token(*rows[-1])
        return Page(_series(key, rows), token)

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

    def search_dataset_summaries(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        with self._db.read() as conn:
            rows = fetch(conn, _DATASET_SUMMARIES, {"ids": [int(e) for e in experiment_ids]})
        return [
            DatasetSummary(experiment_id=str(e), name=name, digest=digest, context=context or "")
            for e, name, digest, context in rows
        ]

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
_PARAMS_WITH_KEYS = select(params.c.key, params.c.value).where(
    params.c.run_uuid == bindparam("run_id"), params.c.key.in_(bindparam("keys", expanding=True))
)
_RENAME_RUN = (
    update(runs).where(runs.c.run_uuid == bindparam("run_id")).values(name=bindparam("name"))
)
_INSERT_RUN = runs.insert()
_EXPERIMENT_OF_NEW_RUN = select(
    experiments.c.artifact_location, experiments.c.lifecycle_stage
).where(experiments.c.experiment_id == bindparam("experiment_id"))


def _require_active(conn: Connection, run_id: str) -> int:
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


def _insert_params(conn: Connection, run_id: str, new: Sequence[Param]) -> None:
    wanted = {p.key: p.value for p in new}
    existing = fetch(conn, _PARAMS_WITH_KEYS, {"run_id": run_id, "keys": list(wanted)})
    for key, value in existing:
        if wanted[key] != value:
            raise InvalidParameter(
                f"Changing param values is not allowed. Param with key={key!r} was already "
                f"logged with value={value!r} for run ID={run_id!r}. Attempted logging new "
                f"value {wanted[key]!r}."
            )
    logged = {key for key, _ in existing}
    run_many(
        conn,
        _statements(conn.dialect.name).insert_param,
        [{"run_uuid": run_id, "key": k, "value": v} for k, v in wanted.items() if k not in logged],
    )


def _upsert_tags(conn: Connection, run_id: str, new: Sequence[RunTag]) -> None:
    latest = {t.key: t.value for t in new}  # the last value of a key in one batch wins
    run_many(
        conn,
        _statements(conn.dialect.name).upsert_tag,
        [{"run_uuid": run_id, "key": k, "value": v} for k, v in latest.items()],
    )
    if RUN_NAME_TAG in latest:
        run(conn, _RENAME_RUN, {"run_id": run_id, "name": latest[RUN_NAME_TAG]})


def _insert_metrics(conn: Connection, run_id: str, points: Sequence[Metric]) -> None:
    rows: list[dict[str, Any]] = [
        # NaN is the one value not equal to itself; it is stored as is_nan with value 0.
        {"run_uuid": run_id, "key": key, "step": step, "timestamp": timestamp,
         "value": value if value == value else 0.0, "is_nan": value != value}
        for key, value, timestamp, step in _columns(points)
    ]  # fmt: skip
    statements = _statements(conn.dialect.name)
    run_many(conn, statements.insert_metric, rows)
    newest: dict[str, tuple[int, int, float, dict[str, Any]]] = {}
    for row in rows:
        rank = (row["step"], row["timestamp"], row["value"], row)
        best = newest.get(row["key"])
        if best is None or rank[:3] > best[:3]:
            newest[row["key"]] = rank
    run_many(conn, statements.upsert_latest_metric, [best[3] for best in newest.values()])


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
_RUN_COLUMNS = tuple(runs.c)  # _run_info reads rows of these, in this order
_RUN_BY_ID = select(*_RUN_COLUMNS).where(runs.c.run_uuid == bindparam("run_id"))
_RUN_EXISTS = select(runs.c.run_uuid).where(runs.c.run_uuid == bindparam("run_id"))
_HISTORY_ORDER = (metrics.c.step, metrics.c.timestamp, metrics.c.value, metrics.c.is_nan)
_HISTORY = (
    select(*_HISTORY_ORDER)
    .where(
        metrics.c.run_uuid == bindparam("run_id"),
        metrics.c.key == bindparam("key"),
        tuple_(*_HISTORY_ORDER)
        > tuple_(bindparam("s"), bindparam("t"), bindparam("v"), bindparam("n")),
    )
    .order_by(*_HISTORY_ORDER)
    .limit(bindparam("limit"))
)
# Before every point: steps are int64 and timestamps are never negative.
_HISTORY_START = (-(2**63), -1, 0.0, False)
_NO_LIMIT = 2**62


@functools.cache
def _key_values_of(dialect: str, table: Table) -> Select[Any]:
    """(run_uuid, JSON object of key -> value) per run: one row a run instead of one a pair,
    decoded by orjson in C."""
    aggregate: ColumnElement[Any] = (
        cast(func.json_object_agg(table.c.key, table.c.value), Text)
        if dialect == "postgresql"
        else func.json_group_object(table.c.key, table.c.value)
    )
    return (
        select(table.c.run_uuid, aggregate)
        .where(table.c.run_uuid.in_(_IDS))
        .group_by(table.c.run_uuid)
    )


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
    ids = [row[0] for row in rows]
    if not ids:
        return []
    dialect = conn.dialect.name
    loads = orjson.loads
    run_params: dict[str, dict[str, str]] = defaultdict(dict)
    for run_uuid, pairs in fetch(conn, _key_values_of(dialect, params), {"ids": ids}):
        run_params[run_uuid] = loads(pairs)
    run_tags: dict[str, dict[str, str]] = defaultdict(dict)
    for run_uuid, pairs in fetch(conn, _key_values_of(dialect, tags), {"ids": ids}):
        run_tags[run_uuid] = loads(pairs)
    # Latest metrics column by column: four appends a point instead of an object a point.
    columns: dict[str, tuple[list[str], list[float], list[int], list[int]]] = {}
    nan = math.nan
    for run_uuid, key, value, timestamp, step, is_nan in fetch(conn, _LATEST_OF, {"ids": ids}):
        keys, values, timestamps, steps = columns.get(run_uuid) or columns.setdefault(
            run_uuid, ([], [], [], [])
        )
        keys.append(key)
        values.append(nan if is_nan else value)
        timestamps.append(timestamp)
        steps.append(step)
    inputs = _inputs_of(conn, ids)
    return [
        Run(
            info=_run_info(row),
            data=RunData(
                metrics=MetricColumns(*columns[row[0]]) if row[0] in columns else [],
                params=run_params[row[0]],
                tags=run_tags[row[0]],
            ),
            dataset_inputs=inputs.get(row[0], ()),
        )
        for row in rows
    ]


_CONTEXT_TAG = "mlflow.data.context"
_DATASET_SUMMARIES = (
    select(datasets.c.experiment_id, datasets.c.name, datasets.c.digest, run_input_tags.c.value)
    .distinct()
    .join(run_inputs, run_inputs.c.dataset_uuid == datasets.c.dataset_uuid)
    .outerjoin(
        run_input_tags,
        and_(
            run_input_tags.c.run_uuid == run_inputs.c.run_uuid,
            run_input_tags.c.dataset_uuid == run_inputs.c.dataset_uuid,
            run_input_tags.c.key == _CONTEXT_TAG,
        ),
    )
    .where(datasets.c.experiment_id.in_(_IDS))
    .order_by(datasets.c.experiment_id, datasets.c.name, datasets.c.digest, run_input_tags.c.value)
)
_INPUT_TAGS_OF = select(
    run_input_tags.c.run_uuid,
    run_input_tags.c.dataset_uuid,
    run_input_tags.c.key,
    run_input_tags.c.value,
).where(run_input_tags.c.run_uuid.in_(_IDS))
_INPUTS_OF = (
    select(
        run_inputs.c.run_uuid, datasets.c.dataset_uuid, datasets.c.name, datasets.c.digest,
        datasets.c.source_type, datasets.c.source, datasets.c.schema, datasets.c.profile,
    )
    .join(datasets, datasets.c.dataset_uuid == run_inputs.c.dataset_uuid)
    .where(run_inputs.c.run_uuid.in_(_IDS))
)  # fmt: skip


def _inputs_of(conn: Connection, ids: Sequence[str]) -> dict[str, list[DatasetInput]]:
    found: dict[str, list[DatasetInput]] = defaultdict(list)
    inputs = fetch(conn, _INPUTS_OF, {"ids": ids})
    if not inputs:
        return found
    input_tags: dict[tuple[str, str], list[InputTag]] = defaultdict(list)
    for run_uuid, dataset_uuid, key, value in fetch(conn, _INPUT_TAGS_OF, {"ids": ids}):
        input_tags[(run_uuid, dataset_uuid)].append(InputTag(key=key, value=value))
    for run_uuid, dataset_uuid, name, digest, source_type, source, schema, profile in inputs:
        found[run_uuid].append(
            DatasetInput(
                dataset=Dataset(
                    name=name,
                    digest=digest,
                    source_type=source_type,
                    source=source,
                    schema=schema or "",
                    profile=profile or "",
                ),
                tags=input_tags[(run_uuid, dataset_uuid)],
            )
        )
    return found


def _run_info(row: Sequence[Any]) -> RunInfo:
    """A row whose first columns are those of `runs`, in table order (see _RUN_COLUMNS)."""
    run_uuid, experiment_id, name, user_id, status, start, end, artifact_uri, stage = row[:9]
    return RunInfo(
        run_id=run_uuid,
        run_name=name,
        experiment_id=str(experiment_id),
        user_id=user_id,
        status=RunStatus(status),
        start_time=start,
        end_time=end,
        artifact_uri=artifact_uri,
        lifecycle_stage=LifecycleStage(stage),
    )


def _metric(key: str, row: Any) -> Metric:
    value = math.nan if row.is_nan else float(row.value)
    return Metric(key=key, value=value, timestamp=row.timestamp, step=row.step)


def _series(key: str, rows: Sequence[Sequence[Any]]) -> MetricColumns:
    """(step, timestamp, value, is_nan) rows of one key, column by column."""
    steps, timestamps, values, nans = (list(map(itemgetter(i), rows)) for i in range(4))
    if any(nans):
        values = [math.nan if nan else value for value, nan in zip(values, nans, strict=True)]
    return MetricColumns([key] * len(steps), values, timestamps, steps)


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
