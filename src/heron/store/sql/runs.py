"""SqlRunStore: runs, params, tags, metric history and dataset inputs in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Connection,
    delete,
    select,
    update,
)

from heron.clock import now_ms
from heron.entities import (
    DatasetInput,
    DatasetSummary,
    LifecycleStage,
    LoggedModelInput,
    LoggedModelMetric,
    LoggedModelOutput,
    Metric,
    Page,
    Param,
    Run,
    RunData,
    RunInfo,
    RunStatus,
    RunTag,
    reserved,
)
from heron.errors import InvalidParameter, NotFound
from heron.store import ids
from heron.store.crypto.fields import Sealer
from heron.store.runs import MetricWithRunId, RunQuery
from heron.store.sql import logged_models, run_reads, run_writes, tracking_search
from heron.store.sql.database import Database, fetch, insert_for, run, run_many
from heron.store.sql.json_sql import bound_list
from heron.store.sql.sealed_values import refuse_sealed_keys, sealed_pairs
from heron.store.sql.tables import (
    run_input_tags,
    run_inputs,
    run_model_inputs,
    run_model_outputs,
    runs,
    tags,
)


class SqlRunStore:
    """Runs in SQL; params and tags of sensitive keys are sealed by `sealer`."""

    def __init__(self, database: Database, sealer: Sealer | None = None) -> None:
        self._db = database
        self._sealer = sealer or Sealer(None)

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
            found = fetch(
                conn,
                run_writes.EXPERIMENT_OF_NEW_RUN,
                {"experiment_id": ids.experiment_key(experiment_id)},
            )
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
                run_writes.INSERT_RUN,
                {
                    "run_uuid": run_id,
                    "experiment_id": ids.experiment_key(experiment_id),
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
                run_writes.hot_statements(conn.dialect.name).upsert_tag,
                [
                    {"run_uuid": run_id, "key": k, "value": v}
                    for k, v in sealed_pairs(self._sealer, tags).items()
                ],
            )
            return Run(info=info, data=RunData(tags=dict(tags)))

        return self._db.write(create)

    def get_run(self, run_id: str) -> Run:
        with self._db.read() as conn:
            rows = fetch(conn, run_reads.RUN_BY_ID, {"run_id": run_id})
            if not rows:
                raise NotFound(f"Run with id={run_id} not found")
            return run_reads.load_runs(conn, rows, self._sealer)[0]

    def update_run(
        self,
        run_id: str,
        *,
        status: RunStatus | None,
        end_time: int | None,
        run_name: str | None,
    ) -> RunInfo:
        def change(conn: Connection) -> RunInfo:
            run_writes.require_active(conn, run_id)
            values: dict[str, Any] = {}
            if status is not None:
                values["status"] = status.value
            if end_time is not None:
                values["end_time"] = end_time
            if run_name is not None:
                values["name"] = run_name
                run_writes.upsert_tags(
                    conn, run_id, [RunTag(key=reserved.RUN_NAME, value=run_name)], self._sealer
                )
            if values:
                conn.execute(update(runs).where(runs.c.run_uuid == run_id).values(**values))
            row = conn.execute(select(runs).where(runs.c.run_uuid == run_id)).one()
            return run_reads.run_info(row)

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
        model_metrics: Sequence[LoggedModelMetric] = (),
    ) -> None:
        def log(conn: Connection) -> None:
            experiment_id = run_writes.require_active(conn, run_id)
            if params:
                run_writes.insert_params(conn, run_id, params, self._sealer)
            if tags:
                run_writes.upsert_tags(conn, run_id, tags, self._sealer)
            if metrics:
                run_writes.insert_metrics(conn, run_id, experiment_id, metrics)
            if model_metrics:
                logged_models.insert_model_metrics(conn, run_id, model_metrics)

        self._db.write(log)

    def delete_tag(self, run_id: str, key: str) -> None:
        def remove(conn: Connection) -> None:
            run_writes.require_active(conn, run_id)
            gone = conn.execute(delete(tags).where(tags.c.run_uuid == run_id, tags.c.key == key))
            if gone.rowcount == 0:
                raise NotFound(f"No tag with name {key!r} in run with id {run_id}")

        self._db.write(remove)

    def log_inputs(
        self,
        run_id: str,
        datasets: Sequence[DatasetInput],
        models: Sequence[LoggedModelInput] = (),
    ) -> None:
        def log(conn: Connection) -> None:
            experiment_id = run_writes.require_active(conn, run_id)
            if models:
                logged_models.require_models(conn, (m.model_id for m in models))
                conn.execute(
                    insert_for(conn, run_model_inputs).on_conflict_do_nothing(),
                    [{"run_uuid": run_id, "model_id": m.model_id} for m in models],
                )
            for item in datasets:
                dataset_uuid = run_writes.dataset_id_of(conn, experiment_id, item.dataset)
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

    def log_outputs(self, run_id: str, models: Sequence[LoggedModelOutput]) -> None:
        def log(conn: Connection) -> None:
            run_writes.require_active(conn, run_id)
            logged_models.require_models(conn, (m.model_id for m in models))
            latest = {m.model_id: m.step for m in models}  # the last step of a model wins
            stmt = insert_for(conn, run_model_outputs)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=["run_uuid", "model_id"], set_={"step": stmt.excluded.step}
                ),
                [{"run_uuid": run_id, "model_id": k, "step": v} for k, v in latest.items()],
            )

        if models:
            self._db.write(log)
        else:
            self.get_run(run_id)  # nothing to record; still NotFound for a missing run

    # -- reading ----------------------------------------------------------------------------

    def get_metric_history(
        self, run_id: str, key: str, *, max_results: int | None, page_token: str | None
    ) -> Page[Metric]:
        after = (
            run_reads.decode_history_token(page_token) if page_token else run_reads.HISTORY_START
        )
        limit = run_reads.NO_LIMIT if max_results is None else max_results + 1
        with self._db.read() as conn:
            if not fetch(conn, run_reads.RUN_EXISTS, {"run_id": run_id}):
                raise NotFound(f"Run with id={run_id} not found")
            rows = fetch(
                conn,
                run_reads.HISTORY,
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
            token = run_reads.encode_history_token(*rows[-1])
        return Page(run_reads.history_columns(key, rows), token)

    def get_metric_history_sampled(
        self,
        run_ids: Sequence[str],
        key: str,
        *,
        max_results: int,
        start_step: int | None,
        end_step: int | None,
    ) -> list[MetricWithRunId]:
        lo = run_reads.STEP_MIN if start_step is None else start_step
        hi = run_reads.STEP_MAX if end_step is None else end_step
        with self._db.read() as conn:
            return [
                MetricWithRunId(run_id=run_id, metric=metric)
                for run_id in run_ids
                for metric in run_reads.sampled_history(conn, run_id, key, max_results, lo, hi)
            ]

    def search_dataset_summaries(self, experiment_ids: Sequence[str]) -> list[DatasetSummary]:
        with self._db.read() as conn:
            rows = fetch(
                conn,
                run_reads.DATASET_SUMMARIES,
                {"ids": bound_list(ids.experiment_key(e) for e in experiment_ids)},
            )
        return [
            DatasetSummary(experiment_id=str(e), name=name, digest=digest, context=context or "")
            for e, name, digest, context in rows
        ]

    def search_runs(self, query: RunQuery) -> Page[Run]:
        refuse_sealed_keys(
            self._sealer,
            [
                *((c.entity, c.key, c.op) for c in query.filter),
                *((o.entity, o.key, None) for o in query.order_by),
            ],
        )
        statement = tracking_search.run_search(query)
        with self._db.read() as conn:
            rows = statement.rows(conn, query.max_results)
            page_rows = rows[: query.max_results]
            found = run_reads.load_runs(conn, page_rows, self._sealer)
        token = None
        if len(rows) > query.max_results:
            token = statement.next_token(rows[query.max_results - 1])
        return Page(found, token)
