"""Running deployment job tasks: a `heron worker` takes one from the queue, keeps its lease
alive while an executor does it, and records how it ended (the store moves the run on).

An executor is a function of a `TaskContext` returning an `Outcome`. It may take minutes (a
canary growing in steps, a post-deploy check watching a window): the lease is extended every
third of its length, so a worker that dies gives the task back within one lease, and a worker
that loses it (the run was cancelled, or it hung past its lease) stops at its next `sleep` or
`save`. Failed attempts are tried again with exponential back-off, as often as the task's
`retries` say."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from heron.clock import now_ms
from heron.entities.deployment_jobs import JobRun, TaskKind, TaskRun, TaskSpec
from heron.services.access import Identity, identity_scope
from heron.services.background import PollingWorkers
from heron.store.deployment_jobs import ClaimedTask, Event, JobTaskQueue, Outcome

_log = logging.getLogger("heron.jobs")


class TaskLost(Exception):
    """The worker no longer holds the task: the run was cancelled, or another worker took
    it over after this one's lease ran out. Nothing more it does is recorded."""


class TaskContext:
    """What an executor sees of its task, and how it reports while it works."""

    def __init__(self, claimed: ClaimedTask, store: JobTaskQueue, stopping: threading.Event):
        self._claimed = claimed
        self._store = store
        self._stopping = stopping
        self.lost = threading.Event()
        self.finished = threading.Event()  # the executor returned (the lease may lapse)
        self._logs: list[str] = []
        self._lock = threading.Lock()

    @property
    def run(self) -> JobRun:
        return self._claimed.run

    @property
    def task(self) -> TaskRun:
        return self._claimed.task

    @property
    def spec(self) -> TaskSpec:
        return self._claimed.spec

    @property
    def specs(self) -> Sequence[TaskSpec]:
        return self._claimed.specs

    @property
    def attempt(self) -> int:
        return self._claimed.task.attempts

    def log(self, message: str) -> None:
        """Adds a line to the task's logs (stored with the next `save` or at the end)."""
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")
        with self._lock:
            self._logs.append(f"{stamp} {message}\n")

    def take_logs(self) -> str:
        with self._lock:
            text, self._logs = "".join(self._logs), []
        return text

    def save(self, detail: Mapping[str, Any], events: Sequence[Event] = ()) -> None:
        """Stores what the task has done so far (merged into its detail) with the logs since
        the last save, so a worker taking over after a crash goes on from there."""
        if self.lost.is_set() or not self._store.record_progress(
            self._claimed, detail, self.take_logs(), events
        ):
            self.lost.set()
            raise TaskLost(f"Task {self.spec.name!r} of run {self.run.run_id} was lost")

    def sleep(self, seconds: float) -> None:
        """Waits, or raises TaskLost as soon as the task is lost or the worker stops."""
        deadline = time.monotonic() + seconds
        while True:
            if self.lost.is_set() or self._stopping.is_set():
                raise TaskLost(f"Task {self.spec.name!r} of run {self.run.run_id} was given up")
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.lost.wait(min(left, 0.5))

    def earlier(self, kind: TaskKind) -> Sequence[tuple[TaskSpec, TaskRun]]:
        """The tasks of `kind` before this one, nearest first, with how they ran."""
        index = self.task.index
        pairs = zip(self.specs[:index], self.run.tasks[:index], strict=True)
        return [pair for pair in reversed(list(pairs)) if pair[0].kind == kind]


Executor = Callable[[TaskContext], Outcome]


class DeploymentRunner:
    """Works off the queue of deployment job tasks with the executors it is started with;
    only `heron worker` processes start it (executors run model code)."""

    def __init__(
        self,
        store: JobTaskQueue,
        *,
        lease_s: float = 30.0,
        backoff_s: float = 5.0,
        max_backoff_s: float = 600.0,
    ) -> None:
        self._store = store
        self.lease_s = lease_s
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._owner = f"{socket.gethostname()[:60]}:{os.getpid()}"
        self._executors: Mapping[TaskKind, Executor] = {}
        self._workers: PollingWorkers[ClaimedTask] | None = None

    def start(
        self, executors: Mapping[TaskKind, Executor], *, threads: int = 1, poll_s: float = 0.5
    ) -> None:
        self._executors = dict(executors)
        self._workers = PollingWorkers(
            "heron-jobs", self.claim, self.run_task, threads=threads, poll_interval_s=poll_s
        )
        self._workers.start()

    def close(self) -> None:
        """Stops taking tasks; a task in flight is given up at its next wait (its lease runs
        out and another worker goes on with it)."""
        if self._workers is not None:
            self._workers.close()
            self._workers = None

    def claim(self) -> ClaimedTask | None:
        return self._store.claim_task(now_ms(), int(self.lease_s * 1000), self._owner)

    def run_task(self, claimed: ClaimedTask) -> None:
        stopping = self._workers.stopping if self._workers else threading.Event()
        context = TaskContext(claimed, self._store, stopping)
        beat = threading.Thread(target=self._keep_lease, args=(claimed, context), daemon=True)
        beat.start()
        try:
            outcome = self._execute(claimed, context)
        finally:
            context.finished.set()
            beat.join()
        if outcome is None:
            if not context.lost.is_set():  # this worker is stopping: another goes on at once
                self._store.give_back(claimed)
            return  # lost: whoever holds the task now goes on with it
        outcome = _with_logs(outcome, context.take_logs())
        retry_at = None
        if not outcome.succeeded and outcome.wait_until is None and outcome.retryable:
            failures = claimed.item.failures
            if failures < claimed.spec.retries:
                delay = min(self._max_backoff_s, self._backoff_s * 2**failures)
                retry_at = now_ms() + int(delay * 1000)
        if not self._store.finish(claimed, outcome, retry_at):
            _log.warning(
                "Task %s of run %s was lost before it finished",
                claimed.spec.name,
                claimed.run.run_id,
            )

    def _execute(self, claimed: ClaimedTask, context: TaskContext) -> Outcome | None:
        executor = self._executors.get(claimed.spec.kind)
        if executor is None:
            return Outcome(error=f"this worker cannot run {claimed.spec.kind.value} tasks")
        actor = Identity(name=f"deployment-job:{claimed.run.job_name}")
        try:
            with identity_scope(actor):
                return executor(context)
        except TaskLost:
            return None
        except Exception as exc:  # the task's own failure (or a bug): tried again if allowed
            context.log(traceback.format_exc())
            return Outcome(error=f"{type(exc).__name__}: {exc}"[:2000], retryable=True)

    def _keep_lease(self, claimed: ClaimedTask, context: TaskContext) -> None:
        every = self.lease_s / 3
        while not context.finished.wait(every):
            try:
                held = self._store.extend(claimed, now_ms() + int(self.lease_s * 1000))
            except Exception:  # the database is away: try again; the lease may still hold
                _log.exception("Could not extend the lease of a deployment task")
                continue
            if not held:
                context.lost.set()
                return


def _with_logs(outcome: Outcome, logs: str) -> Outcome:
    if not logs:
        return outcome
    return replace(outcome, logs=logs + outcome.logs)
