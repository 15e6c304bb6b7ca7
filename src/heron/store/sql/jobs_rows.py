"""Rows of the deployment job tables read into entities and written from them, and the events
a run's changes leave in the version's activity log and the webhook queue."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, select, update

from heron.clock import now_ms
from heron.entities.deployment_jobs import (
    MLFLOW_RUN_STATES,
    ConnectionState,
    DeploymentJob,
    DeploymentJobState,
    JobRun,
    RunState,
    TaskKind,
    TaskRun,
    TaskSpec,
    TaskState,
)
from heron.entities.security import AuditEntry
from heron.errors import NotFound
from heron.store.deployment_jobs import Event
from heron.store.sql import work_queue
from heron.store.sql.jobs_tables import (
    deployment_job_runs,
    deployment_job_versions,
    deployment_jobs,
    deployment_task_runs,
)
from heron.store.sql.registry_queue import queue_event
from heron.store.sql.registry_rows import record_event
from heron.store.sql.security_audit import append_entries
from heron.store.sql.tables import registered_models

jobs = deployment_jobs
versions = deployment_job_versions
runs = deployment_job_runs
tasks = deployment_task_runs
rm = registered_models
_COMMON = ("name", "type", "retries")

RUN_COLUMNS = (
    runs.c.run_id,
    runs.c.job_id,
    jobs.c.name.label("job_name"),
    runs.c.job_version,
    rm.c.name.label("model_name"),
    runs.c.version,
    runs.c.state,
    runs.c.current_task,
    runs.c.started_by,
    runs.c.creation_timestamp,
    runs.c.last_updated_timestamp,
    runs.c.finished_at,
    runs.c.failure_reason,
    runs.c.registered_model_id,
)


def run_select() -> Any:
    return (
        select(*RUN_COLUMNS)
        .join(jobs, jobs.c.job_id == runs.c.job_id)
        .join(rm, rm.c.registered_model_id == runs.c.registered_model_id)
    )


def spec_json(specs: Sequence[TaskSpec]) -> str:
    """Tasks as stored: a JSON list of `{name, type, retries, ...params}`."""
    return orjson.dumps(
        [{"name": t.name, "type": t.kind.value, "retries": t.retries, **t.params} for t in specs]
    ).decode()


def specs_of(text: str) -> list[TaskSpec]:
    """The stored tasks (they were checked before they were stored)."""
    return [
        TaskSpec(
            name=d["name"],
            kind=TaskKind(d["type"]),
            retries=int(d.get("retries", 0)),
            params={k: v for k, v in d.items() if k not in _COMMON},
        )
        for d in orjson.loads(text)
    ]


def job_of(row: Any, spec: str, source: str) -> DeploymentJob:
    return DeploymentJob(
        job_id=row.job_id,
        name=row.name,
        version=row.latest_version,
        tasks=specs_of(spec),
        source=source,
        creation_timestamp=row.creation_timestamp,
        last_updated_timestamp=row.last_updated_timestamp,
        created_by=row.created_by,
        description=row.description,
    )


def job_specs(conn: Connection, job_id: str, version: int) -> list[TaskSpec]:
    spec = conn.execute(
        select(versions.c.spec).where(versions.c.job_id == job_id, versions.c.version == version)
    ).scalar_one()
    return specs_of(spec)


def task_of(row: Any) -> TaskRun:
    return TaskRun(
        index=row.task_index,
        name=row.name,
        kind=TaskKind(row.kind),
        state=TaskState(row.state),
        attempts=row.attempts,
        started_at=row.started_at,
        finished_at=row.finished_at,
        metrics=orjson.loads(row.metrics),
        detail=orjson.loads(row.detail),
        logs=row.logs,
        error=row.error,
    )


def load_runs(conn: Connection, rows: Sequence[Any]) -> list[JobRun]:
    """Runs from rows of `run_select()`, with their tasks (one query for all of them)."""
    if not rows:
        return []
    ids = [r.run_id for r in rows]
    by_run: dict[str, list[TaskRun]] = {i: [] for i in ids}
    for row in conn.execute(
        select(tasks).where(tasks.c.run_id.in_(ids)).order_by(tasks.c.run_id, tasks.c.task_index)
    ):
        by_run[row.run_id].append(task_of(row))
    return [
        JobRun(
            run_id=r.run_id,
            job_id=r.job_id,
            job_name=r.job_name,
            job_version=r.job_version,
            name=r.model_name,
            version=str(r.version),
            state=RunState(r.state),
            creation_timestamp=r.creation_timestamp,
            last_updated_timestamp=r.last_updated_timestamp,
            tasks=by_run[r.run_id],
            current_task=r.current_task,
            started_by=r.started_by,
            finished_at=r.finished_at,
            failure_reason=r.failure_reason,
        )
        for r in rows
    ]


def lock_run(conn: Connection, run_id: str) -> JobRun:
    """The run, its work items and its row locked until the transaction ends (PostgreSQL),
    in that order (see `work_queue.lock`)."""
    work_queue.lock(conn, run_id)
    conn.execute(select(runs.c.run_id).where(runs.c.run_id == run_id).with_for_update()).all()
    return load_run(conn, run_id)


def load_run(conn: Connection, run_id: str) -> JobRun:
    rows = conn.execute(run_select().where(runs.c.run_id == run_id)).all()
    if not rows:
        raise NotFound(f"Deployment job run {run_id!r} does not exist")
    return load_runs(conn, rows)[0]


def model_id_of(conn: Connection, run_id: str) -> int:
    found = conn.execute(
        select(runs.c.registered_model_id).where(runs.c.run_id == run_id)
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(f"Deployment job run {run_id!r} does not exist")
    return int(found)


WORKER = "heron-worker"  # who the audit log names for what a job did by itself


def emit(conn: Connection, model_id: int, run: JobRun, event: Event) -> None:
    """Writes `event` to the version's activity log and the audit log, and queues its webhook
    deliveries, in the caller's transaction."""
    detail = {"run_id": run.run_id, "job_id": run.job_id, **event.detail}
    actor = event.actor
    record_event(conn, model_id, int(run.version), event.kind, detail, actor)
    audited = AuditEntry(
        seq=0, time=now_ms(), principal=(actor or WORKER)[:256], address=WORKER,
        request_id=run.run_id, action=f"deployment_job.{event.kind}"[:128],
        object_type="model_version", object_id=f"{run.name}/{run.version}"[:1000],
        allowed=True, after=orjson.dumps(detail, default=str).decode(),
    )  # fmt: skip
    append_entries(conn, [audited])
    if event.action is not None:
        data = {"name": run.name, "version": run.version, "job_name": run.job_name, **detail}
        queue_event(conn, "DEPLOYMENT_JOB", event.action, data)


def set_run(conn: Connection, run_id: str, **values: Any) -> None:
    conn.execute(
        update(runs)
        .where(runs.c.run_id == run_id)
        .values(last_updated_timestamp=now_ms(), **values)
    )


def set_task(conn: Connection, run_id: str, index: int, **values: Any) -> None:
    for key in ("metrics", "detail"):
        if isinstance(values.get(key), Mapping):
            values[key] = orjson.dumps(dict(values[key])).decode()
    conn.execute(
        update(tasks).where(tasks.c.run_id == run_id, tasks.c.task_index == index).values(**values)
    )


def job_state(conn: Connection, model_id: int, version: int) -> DeploymentJobState | None:
    """MLflow's deployment_job_state of a version: the job its model names and the state of
    the version's newest run (None when the model has no job and the version no run)."""
    job_id = conn.execute(
        select(rm.c.deployment_job_id).where(rm.c.registered_model_id == model_id)
    ).scalar_one_or_none()
    latest = conn.execute(
        select(runs.c.run_id, runs.c.job_id, runs.c.state, runs.c.current_task)
        .where(runs.c.registered_model_id == model_id, runs.c.version == version)
        .order_by(runs.c.creation_timestamp.desc(), runs.c.run_id.desc())
        .limit(1)
    ).first()
    if job_id is None and latest is None:
        return None
    if latest is None:
        return DeploymentJobState(
            job_id=job_id,
            run_id=None,
            job_state=ConnectionState.CONNECTED,
            run_state="DEPLOYMENT_JOB_RUN_STATE_UNSPECIFIED",
        )
    return DeploymentJobState(
        job_id=job_id or latest.job_id,
        run_id=latest.run_id,
        job_state=ConnectionState.CONNECTED if job_id else ConnectionState.NOT_SET_UP,
        run_state=MLFLOW_RUN_STATES[RunState(latest.state)],
        current_task_name=latest.current_task,
    )
