"""SqlJobTaskQueue: the tasks of running deployment jobs as `heron worker` processes take them
from the general work queue, and what their attempts leave behind.

Each run has one row in the work queue at a time, naming the task to do next. A worker claims
it with a lease, and everything it writes afterwards is fenced by that claim: once its lease
ran out (it died, or hung) and another worker took the task over, or the run was cancelled,
nothing it writes lands. So a run moves on exactly once per task, however many workers try."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from heron.clock import now_ms
from heron.entities.deployment_jobs import JobRun, RunState, TaskKind, TaskRun, TaskState
from heron.errors import NotFound
from heron.store.deployment_jobs import TASK_WORK, ClaimedTask, Event, Outcome
from heron.store.sql import work_queue
from heron.store.sql.database import Database
from heron.store.sql.jobs_rows import (
    emit,
    job_specs,
    load_run,
    lock_run,
    model_id_of,
    set_run,
    set_task,
)
from heron.store.work_queue import WorkItem

LOG_LIMIT = 256 * 1024  # characters of a task's logs kept (the newest)
LOST_LIMIT = 3  # starts that never finished (the worker died) before a task is failed
_CLAIM_TRIES = 8


class SqlJobTaskQueue:
    def __init__(self, database: Database) -> None:
        self._db = database

    def claim_task(self, now: int, lease_ms: int, owner: str) -> ClaimedTask | None:
        def claim(conn: Connection) -> ClaimedTask | None:
            for _ in range(_CLAIM_TRIES):
                item = work_queue.claim(conn, TASK_WORK, now, lease_ms, owner)
                if item is None:
                    return None
                claimed = _take(conn, item, now)
                if claimed is not None:
                    return claimed
            return None

        return self._db.write(claim)

    def extend(self, claimed: ClaimedTask, until: int) -> bool:
        return self._db.write(lambda conn: work_queue.extend(conn, claimed.item, until))

    def record_progress(
        self,
        claimed: ClaimedTask,
        detail: Mapping[str, Any],
        logs: str,
        events: Sequence[Event] = (),
    ) -> bool:
        def record(conn: Connection) -> bool:
            if not work_queue.holds(conn, claimed.item):
                return False
            run = lock_run(conn, claimed.run.run_id)
            task = run.tasks[claimed.task.index]
            set_task(
                conn,
                run.run_id,
                task.index,
                detail={**task.detail, **detail},
                logs=_logs(task, logs),
            )
            model_id = model_id_of(conn, run.run_id)
            for event in events:
                emit(conn, model_id, run, event)
            return True

        return self._db.write(record)

    def give_back(self, claimed: ClaimedTask) -> None:
        def give_back(conn: Connection) -> None:
            if work_queue.release(conn, claimed.item, at=now_ms()):
                task = claimed.task  # the start it was given does not count as one lost
                if task.state == TaskState.RUNNING:
                    set_task(conn, claimed.run.run_id, task.index, attempts=task.attempts - 1)

        self._db.write(give_back)

    def finish(self, claimed: ClaimedTask, outcome: Outcome, retry_at: int | None) -> bool:
        def finish(conn: Connection) -> bool:
            if not work_queue.holds(conn, claimed.item):
                return False
            run = lock_run(conn, claimed.run.run_id)
            if run.state.finished:
                return False
            _settle(conn, claimed.item, run, run.tasks[claimed.task.index], outcome, retry_at)
            return True

        return self._db.write(finish)


def _take(conn: Connection, item: WorkItem, now: int) -> ClaimedTask | None:
    """The claimed item's task, marked started; None (and the item gone) when there is
    nothing left to do for it."""
    try:
        run = lock_run(conn, item.subject)
    except NotFound:
        work_queue.complete(conn, item)
        return None
    index = int(item.payload.get("task", 0))
    if run.state.finished or index >= len(run.tasks):
        work_queue.complete(conn, item)
        return None
    specs = job_specs(conn, run.job_id, run.job_version)
    task = run.tasks[index]
    if task.state in (TaskState.SUCCEEDED, TaskState.FAILED, TaskState.CANCELLED):
        work_queue.complete(conn, item)
        return None
    if task.state == TaskState.RUNNING and task.attempts >= specs[index].retries + 1 + LOST_LIMIT:
        lost = Outcome(
            error=f"the workers running it stopped {task.attempts} times without "
            "finishing it (killed, or out of memory?)"
        )
        _settle(conn, item, run, task, lost, None)
        return None
    if task.state != TaskState.WAITING:
        set_task(
            conn,
            run.run_id,
            index,
            state=TaskState.RUNNING.value,
            attempts=task.attempts + 1,
            started_at=task.started_at or now,
        )
    waiting = task.state == TaskState.WAITING and task.kind == TaskKind.APPROVE
    set_run(
        conn,
        run.run_id,
        current_task=task.name,
        state=(RunState.APPROVAL if waiting else RunState.RUNNING).value,
    )
    run = load_run(conn, run.run_id)
    return ClaimedTask(item=item, run=run, spec=specs[index], task=run.tasks[index], specs=specs)


def _logs(task: TaskRun, more: str) -> str:
    joined = task.logs + more
    return joined[-LOG_LIMIT:] if len(joined) > LOG_LIMIT else joined


def _settle(
    conn: Connection,
    item: WorkItem,
    run: JobRun,
    task: TaskRun,
    outcome: Outcome,
    retry_at: int | None,
) -> None:
    """Writes an attempt's outcome and moves the run on, in the caller's transaction."""
    now, model_id = now_ms(), model_id_of(conn, run.run_id)
    values: dict[str, Any] = {
        "metrics": {**task.metrics, **outcome.metrics},
        "detail": {**task.detail, **outcome.detail},
        "logs": _logs(task, outcome.logs),
    }
    for event in outcome.events:
        emit(conn, model_id, run, event)
    if outcome.wait_until is not None:
        set_task(conn, run.run_id, task.index, state=TaskState.WAITING.value, **values)
        if task.kind == TaskKind.APPROVE:
            set_run(conn, run.run_id, state=RunState.APPROVAL.value)
        work_queue.release(conn, item, at=outcome.wait_until)
        return
    if not outcome.succeeded and retry_at is not None:
        set_task(conn, run.run_id, task.index, error=outcome.error, **values)
        work_queue.retry(conn, item, at=retry_at)
        return
    state = TaskState.SUCCEEDED if outcome.succeeded else TaskState.FAILED
    error = None if outcome.succeeded else outcome.error
    set_task(
        conn, run.run_id, task.index, state=state.value, finished_at=now, error=error, **values
    )
    finished = {
        "task": task.name,
        "kind": task.kind.value,
        "state": state.value,
        "metrics": values["metrics"],
        **({"reason": error} if error else {}),
    }
    emit(
        conn,
        model_id,
        run,
        Event(kind="deployment_task_finished", detail=finished, action="TASK_FINISHED"),
    )
    if outcome.succeeded and task.index + 1 < len(run.tasks):
        following = run.tasks[task.index + 1]
        set_run(conn, run.run_id, state=RunState.RUNNING.value, current_task=following.name)
        payload = {"run_id": run.run_id, "task": following.index}
        work_queue.advance(conn, item, payload, at=now)
        return
    work_queue.complete(conn, item)
    end = RunState.SUCCEEDED if outcome.succeeded else RunState.FAILED
    reason = None if outcome.succeeded else f"{task.name}: {error}"
    set_run(conn, run.run_id, state=end.value, finished_at=now, failure_reason=reason)
    over = {"state": end.value, **({"reason": reason} if reason else {})}
    emit(conn, model_id, run, Event(kind="deployment_job_finished", detail=over, action="FINISHED"))
