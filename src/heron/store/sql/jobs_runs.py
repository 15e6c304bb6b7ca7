"""SqlJobRunStore: runs of deployment jobs (start, read, search, cancel, retry, approvals).

A run is started in the transaction of the model version it is for (`start_for_new_version`,
the registry's hook), or by hand; starting one queues the work of its first task."""

from __future__ import annotations

import base64
import json
import uuid

from sqlalchemy import Connection, insert, select

from heron.clock import now_ms
from heron.entities import Page
from heron.entities.deployment_jobs import JobRun, RunState, TaskState
from heron.errors import InvalidParameter, NotFound
from heron.store.deployment_jobs import TASK_WORK, Decision, Event, RunQuery
from heron.store.sql import work_queue
from heron.store.sql.database import Database
from heron.store.sql.jobs_rows import (
    emit,
    job_specs,
    jobs,
    load_run,
    load_runs,
    lock_run,
    model_id_of,
    rm,
    run_select,
    runs,
    set_run,
    set_task,
    tasks,
)
from heron.store.sql.registry_rows import model_row_id, require_version
from heron.store.sql.search_sql import SortKey, decode_token, query_fingerprint, rows_after

ACTIVE = (RunState.PENDING.value, RunState.RUNNING.value, RunState.APPROVAL.value)
_KEYS = [SortKey(runs.c.creation_timestamp, ascending=False, nullable=False, numeric=True)]


def start_for_new_version(
    conn: Connection, model_id: int, name: str, version: int, actor: str | None
) -> None:
    """The registry's hook: a new version of a model with a deployment job starts it."""
    start_in(conn, model_id, name, version, actor, by_hand=False)


def start_in(
    conn: Connection, model_id: int, name: str, version: int, actor: str | None, *, by_hand: bool
) -> str | None:
    """Starts the job attached to the model for `version` in `conn`'s transaction; returns
    the run's id (None when no job is attached and the start was not asked for by hand)."""
    job_id = conn.execute(
        select(rm.c.deployment_job_id).where(rm.c.registered_model_id == model_id)
    ).scalar_one_or_none()
    if job_id is None:
        if by_hand:
            raise InvalidParameter(
                f"No deployment job is attached to registered model {name!r}: set its "
                "deployment_job_id first"
            )
        return None
    # One start at a time per model (PostgreSQL; SQLite has one writer): a second one sees
    # the run the first started.
    conn.execute(
        select(rm.c.registered_model_id)
        .where(rm.c.registered_model_id == model_id)
        .with_for_update()
    ).all()
    if by_hand and _active_run(conn, model_id, version) is not None:
        raise InvalidParameter(
            f"A deployment job run of {name!r} version {version} is still going: cancel it "
            "first, or wait for it to finish"
        )
    job_version = conn.execute(
        select(jobs.c.latest_version).where(jobs.c.job_id == job_id)
    ).scalar_one()
    specs = job_specs(conn, job_id, job_version)
    run_id, now = uuid.uuid4().hex, now_ms()
    conn.execute(
        insert(runs).values(
            run_id=run_id,
            job_id=job_id,
            job_version=job_version,
            registered_model_id=model_id,
            version=version,
            state=RunState.PENDING.value,
            current_task=specs[0].name,
            started_by=actor,
            creation_timestamp=now,
            last_updated_timestamp=now,
        )
    )
    conn.execute(
        insert(tasks),
        [
            {
                "run_id": run_id,
                "task_index": i,
                "name": s.name,
                "kind": s.kind.value,
                "state": TaskState.PENDING.value,
                "attempts": 0,
                "metrics": "{}",
                "detail": "{}",
                "logs": "",
            }
            for i, s in enumerate(specs)
        ],
    )
    work_queue.enqueue(conn, TASK_WORK, run_id, {"run_id": run_id, "task": 0}, at=now, now=now)
    detail = {"job_version": job_version, "tasks": [s.name for s in specs], "by_hand": by_hand}
    emit(
        conn,
        model_id,
        load_run(conn, run_id),
        Event(kind="deployment_job_started", detail=detail, action="STARTED", actor=actor),
    )
    return run_id


def _active_run(conn: Connection, model_id: int, version: int) -> str | None:
    found: str | None = conn.execute(
        select(runs.c.run_id).where(
            runs.c.registered_model_id == model_id,
            runs.c.version == version,
            runs.c.state.in_(ACTIVE),
        )
    ).scalar()
    return found


class SqlJobRunStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def start_run(self, name: str, version: str, *, actor: str | None) -> JobRun:
        number = int(version)

        def start(conn: Connection) -> JobRun:
            model_id = require_version(conn, name, number)
            run_id = start_in(conn, model_id, name, number, actor, by_hand=True)
            assert run_id is not None  # noqa: S101 - by hand, it starts or raises
            return load_run(conn, run_id)

        return self._db.write(start)

    def get_run(self, run_id: str) -> JobRun:
        with self._db.read() as conn:
            return load_run(conn, run_id)

    def latest_run(self, name: str, version: str) -> JobRun | None:
        with self._db.read() as conn:
            model_id = require_version(conn, name, int(version))
            rows = conn.execute(
                run_select()
                .where(runs.c.registered_model_id == model_id, runs.c.version == int(version))
                .order_by(runs.c.creation_timestamp.desc(), runs.c.run_id.desc())
                .limit(1)
            ).all()
            found = load_runs(conn, rows)
        return found[0] if found else None

    def search_runs(self, query: RunQuery) -> Page[JobRun]:
        fingerprint = query_fingerprint(
            "job-runs", query.name, query.version, query.job_id, tuple(query.states)
        )
        statement = run_select()
        if query.name is not None:
            statement = statement.where(rm.c.name == query.name)
        if query.version is not None:
            statement = statement.where(runs.c.version == int(query.version))
        if query.job_id is not None:
            statement = statement.where(runs.c.job_id == query.job_id)
        if query.states:
            statement = statement.where(runs.c.state.in_([s.value for s in query.states]))
        if query.page_token:
            values, last_id = decode_token(query.page_token, fingerprint, _KEYS, runs.c.run_id, str)
            statement = statement.where(*rows_after(_KEYS, values, runs.c.run_id, last_id))
        statement = statement.order_by(runs.c.creation_timestamp.desc(), runs.c.run_id).limit(
            query.max_results + 1
        )
        with self._db.read() as conn:
            rows = conn.execute(statement).all()
            found = load_runs(conn, rows[: query.max_results])
        token = None
        if len(rows) > query.max_results:
            last = rows[query.max_results - 1]
            token = _token(fingerprint, last.creation_timestamp, last.run_id)
        return Page(found, token)

    def cancel_run(self, run_id: str, *, actor: str | None, reason: str) -> JobRun:
        def cancel(conn: Connection) -> JobRun:
            run = lock_run(conn, run_id)
            if run.state.finished:
                raise InvalidParameter(
                    f"Deployment job run {run_id!r} is already over ({run.state.value})"
                )
            now = now_ms()
            for task in run.tasks:
                if task.state in (TaskState.RUNNING, TaskState.WAITING):
                    set_task(
                        conn, run_id, task.index, state=TaskState.CANCELLED.value, finished_at=now
                    )
            set_run(
                conn, run_id, state=RunState.CANCELLED.value, finished_at=now, failure_reason=reason
            )
            work_queue.drop(conn, run_id)
            detail = {"state": RunState.CANCELLED.value, "reason": reason}
            emit(
                conn,
                model_id_of(conn, run_id),
                run,
                Event(
                    kind="deployment_job_finished", detail=detail, action="FINISHED", actor=actor
                ),
            )
            return load_run(conn, run_id)

        return self._db.write(cancel)

    def retry_run(self, run_id: str, *, actor: str | None) -> JobRun:
        def retry(conn: Connection) -> JobRun:
            run = lock_run(conn, run_id)
            if run.state not in (RunState.FAILED, RunState.CANCELLED):
                raise InvalidParameter(
                    f"Only a failed or cancelled run can be retried; {run_id!r} is "
                    f"{run.state.value}"
                )
            stopped = next(
                (t for t in run.tasks if t.state not in (TaskState.SUCCEEDED,)), run.tasks[-1]
            )
            set_task(
                conn,
                run_id,
                stopped.index,
                state=TaskState.PENDING.value,
                error=None,
                finished_at=None,
            )
            set_run(
                conn,
                run_id,
                state=RunState.PENDING.value,
                current_task=stopped.name,
                finished_at=None,
                failure_reason=None,
            )
            now = now_ms()
            payload = {"run_id": run_id, "task": stopped.index}
            work_queue.enqueue(conn, TASK_WORK, run_id, payload, at=now, now=now)
            emit(
                conn,
                model_id_of(conn, run_id),
                run,
                Event(
                    kind="deployment_job_retried",
                    detail={"task": stopped.name},
                    action="STARTED",
                    actor=actor,
                ),
            )
            return load_run(conn, run_id)

        return self._db.write(retry)

    def decide(self, run_id: str, task: str, decision: Decision) -> JobRun:
        def decide(conn: Connection) -> JobRun:
            run = lock_run(conn, run_id)
            found = run.task(task)
            if found is None:
                raise NotFound(f"Deployment job run {run_id!r} has no task {task!r}")
            if run.state.finished or found.state != TaskState.WAITING:
                raise InvalidParameter(
                    f"Task {task!r} of run {run_id!r} is not waiting for an approval (it is "
                    f"{found.state.value}, the run {run.state.value})"
                )
            if "decision" in found.detail:
                raise InvalidParameter(f"Task {task!r} of run {run_id!r} was already decided")
            answer = {
                "approved": decision.approved,
                "user_id": decision.user_id,
                "comment": decision.comment,
                "timestamp": decision.timestamp,
                "via": decision.via,
            }
            set_task(conn, run_id, found.index, detail={**found.detail, "decision": answer})
            work_queue.wake(conn, run_id, at=now_ms())
            kind = "approved" if decision.approved else "rejected"
            detail = {"task": task, "comment": decision.comment, "via": decision.via}
            emit(
                conn,
                model_id_of(conn, run_id),
                run,
                Event(kind=kind, detail=detail, actor=decision.user_id),
            )
            return load_run(conn, run_id)

        return self._db.write(decide)


def _token(fingerprint: str, created: int, run_id: str) -> str:
    raw = json.dumps({"q": fingerprint, "k": [created], "id": run_id}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode("ascii").rstrip("=")


def active_run(conn: Connection, name: str, version: int) -> str | None:
    """The run of a version that is still going, if any (for the approval tag rule)."""
    return _active_run(conn, model_row_id(conn, name), version)
