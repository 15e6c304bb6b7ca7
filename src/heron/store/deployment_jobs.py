"""The store ports of deployment jobs: their definitions (`DeploymentJobStore`), their runs
(`JobRunStore`), and the queue of tasks the workers take (`JobTaskQueue`).

Every change to a run writes the model version's activity log and queues the registry
webhooks it fires in the same transaction, as the registry's own changes do."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from heron.entities import Page
from heron.entities.deployment_jobs import (
    DeploymentJob,
    DeploymentJobVersion,
    JobRun,
    RunState,
    TaskRun,
    TaskSpec,
)
from heron.store.work_queue import WorkItem

TASK_WORK = "deployment_task"  # the kind of the work queue's rows that run a task


class DeploymentJobStore(Protocol):
    def create_job(
        self,
        name: str,
        tasks: Sequence[TaskSpec],
        source: str,
        *,
        description: str | None,
        actor: str | None,
    ) -> DeploymentJob:
        """Version 1 of a new job. Raises AlreadyExists."""
        ...

    def get_job(self, job_id: str) -> DeploymentJob:
        """Raises NotFound."""
        ...

    def get_job_by_name(self, name: str) -> DeploymentJob:
        """Raises NotFound."""
        ...

    def list_jobs(self) -> list[DeploymentJob]: ...

    def update_job(
        self,
        job_id: str,
        tasks: Sequence[TaskSpec],
        source: str,
        *,
        description: str | None,
        actor: str | None,
    ) -> DeploymentJob:
        """Adds the next version of the job's tasks. Raises NotFound."""
        ...

    def list_job_versions(self, job_id: str) -> list[DeploymentJobVersion]:
        """Newest first. Raises NotFound."""
        ...

    def get_job_version(self, job_id: str, version: int) -> DeploymentJobVersion:
        """Raises NotFound."""
        ...

    def delete_job(self, job_id: str) -> None:
        """Deletes the job with its versions and runs. Raises NotFound, or InvalidParameter
        while a registered model names it."""
        ...

    def attached_job(self, model_name: str) -> DeploymentJob | None:
        """The job attached to a registered model (None when none). Raises NotFound."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RunQuery:
    name: str | None = None  # a registered model
    version: str | None = None
    job_id: str | None = None
    states: Sequence[RunState] = ()
    max_results: int = 100
    page_token: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """A person's answer to an approval, kept on the task until the worker acts on it."""

    approved: bool
    user_id: str | None
    comment: str
    timestamp: int  # ms since epoch
    via: str = "api"  # api, ui, cli, or tag (MLflow's way)


class JobRunStore(Protocol):
    def start_run(self, name: str, version: str, *, actor: str | None) -> JobRun:
        """Starts the job attached to model `name` for `version` (its latest definition).
        Raises NotFound, or InvalidParameter when no job is attached or a run of the version
        is still going."""
        ...

    def get_run(self, run_id: str) -> JobRun:
        """Raises NotFound."""
        ...

    def latest_run(self, name: str, version: str) -> JobRun | None:
        """The version's newest run, if any. Raises NotFound (no such version)."""
        ...

    def search_runs(self, query: RunQuery) -> Page[JobRun]:
        """Newest first."""
        ...

    def cancel_run(self, run_id: str, *, actor: str | None, reason: str) -> JobRun:
        """Raises NotFound, or InvalidParameter when the run is over."""
        ...

    def retry_run(self, run_id: str, *, actor: str | None) -> JobRun:
        """Runs a failed or cancelled run again from the task that stopped it."""
        ...

    def decide(self, run_id: str, task: str, decision: Decision) -> JobRun:
        """Records a person's answer to the approval task `task` (which must be waiting) and
        wakes the run's work. Raises NotFound, InvalidParameter."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedTask:
    """A task a worker took: the run it belongs to (as it was when taken), the task's
    definition, and the queue item that fences everything the worker writes."""

    item: WorkItem
    run: JobRun
    spec: TaskSpec
    task: TaskRun
    specs: Sequence[TaskSpec]  # every task of the run's job version


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something a task did, for the version's activity log (`kind`, `detail`) and, when
    `action` is set, for webhooks listening to DEPLOYMENT_JOB `action`."""

    kind: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    action: str | None = None
    actor: str | None = None  # who did it, when a person did (an approver)


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """How an attempt at a task ended: `succeeded`, failed (`error`, and whether it may be
    tried again), or waiting until `wait_until` (ms). Metrics and detail are merged into the
    task's own; logs are appended."""

    succeeded: bool = False
    error: str | None = None
    retryable: bool = False
    wait_until: int | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    detail: Mapping[str, Any] = field(default_factory=dict)
    logs: str = ""
    events: Sequence[Event] = ()


class JobTaskQueue(Protocol):
    def claim_task(self, now: int, lease_ms: int, owner: str) -> ClaimedTask | None:
        """Takes one due task of a running job, marking it RUNNING (an approval keeps
        WAITING); None when nothing is due."""
        ...

    def extend(self, claimed: ClaimedTask, until: int) -> bool:
        """Keeps the lease until `until` (ms); False when the worker lost the task (its
        lease ran out, or the run was cancelled)."""
        ...

    def record_progress(
        self,
        claimed: ClaimedTask,
        detail: Mapping[str, Any],
        logs: str,
        events: Sequence[Event] = (),
    ) -> bool:
        """Saves what a task has done so far (merged into its detail; logs appended), so a
        worker taking it over after a crash goes on from there. False when the task was lost."""
        ...

    def give_back(self, claimed: ClaimedTask) -> None:
        """Returns the task to the queue at once, as it is (a worker stopping gracefully)."""
        ...

    def finish(self, claimed: ClaimedTask, outcome: Outcome, retry_at: int | None) -> bool:
        """Records the attempt's outcome and moves the run on: to the next task, to its end,
        to a retry at `retry_at`, or back to waiting. False (and nothing written) when the
        worker lost the task."""
        ...
