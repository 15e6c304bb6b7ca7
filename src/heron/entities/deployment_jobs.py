"""Deployment jobs: an ordered list of tasks (evaluate, approve, deploy, post-deploy check,
custom) kept with versions of its own, attached to registered models; each run of a job takes
one model version through its tasks."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class TaskKind(enum.StrEnum):
    EVALUATE = "evaluate"
    APPROVE = "approve"
    DEPLOY = "deploy"
    POST_DEPLOY_CHECK = "post_deploy_check"
    CUSTOM = "custom"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskSpec:
    """One task of a job: its name (unique in the job), kind, the parameters of its kind, and
    how many times a failed attempt is tried again (with back-off)."""

    name: str
    kind: TaskKind
    params: Mapping[str, Any] = field(default_factory=dict)
    retries: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentJob:
    """A job definition at its latest version (`spec`, written as `source`)."""

    job_id: str
    name: str
    version: int
    tasks: Sequence[TaskSpec]
    source: str  # the YAML or JSON its author wrote (or the JSON a Python definition made)
    creation_timestamp: int  # ms since epoch
    last_updated_timestamp: int  # ms since epoch
    created_by: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentJobVersion:
    """One version of a job's tasks; a run keeps to the version it started with."""

    job_id: str
    version: int
    tasks: Sequence[TaskSpec]
    source: str
    creation_timestamp: int  # ms since epoch
    created_by: str | None = None


class RunState(enum.StrEnum):
    PENDING = "PENDING"  # queued, no worker has started it yet
    RUNNING = "RUNNING"
    APPROVAL = "APPROVAL"  # waiting for a person to approve or reject
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def finished(self) -> bool:
        return self in (RunState.SUCCEEDED, RunState.FAILED, RunState.CANCELLED)


class TaskState(enum.StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    WAITING = "WAITING"  # an approval asked for and not given yet
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskRun:
    """One task of a run: its state, times, what it measured and decided, and its logs."""

    index: int
    name: str
    kind: TaskKind
    state: TaskState
    attempts: int = 0
    started_at: int | None = None  # ms since epoch
    finished_at: int | None = None  # ms since epoch
    metrics: Mapping[str, float] = field(default_factory=dict)
    detail: Mapping[str, Any] = field(default_factory=dict)
    logs: str = ""
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class JobRun:
    """A run of a deployment job for one model version."""

    run_id: str
    job_id: str
    job_name: str
    job_version: int
    name: str  # the registered model
    version: str  # its version
    state: RunState
    creation_timestamp: int  # ms since epoch
    last_updated_timestamp: int  # ms since epoch
    tasks: Sequence[TaskRun] = ()
    current_task: str | None = None
    started_by: str | None = None
    finished_at: int | None = None
    failure_reason: str | None = None

    def task(self, name: str) -> TaskRun | None:
        return next((t for t in self.tasks if t.name == name), None)


class ConnectionState(enum.StrEnum):
    """MLflow's DeploymentJobConnection.State: is a job attached to the model, and found."""

    NOT_SET_UP = "NOT_SET_UP"
    CONNECTED = "CONNECTED"
    NOT_FOUND = "NOT_FOUND"


# MLflow's DeploymentJobRunState for each run state (it has no CANCELLED: a run that was
# cancelled did not succeed).
MLFLOW_RUN_STATES: Mapping[RunState, str] = {
    RunState.PENDING: "PENDING",
    RunState.RUNNING: "RUNNING",
    RunState.APPROVAL: "APPROVAL",
    RunState.SUCCEEDED: "SUCCEEDED",
    RunState.FAILED: "FAILED",
    RunState.CANCELLED: "FAILED",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentJobState:
    """A model version's deployment job as MLflow's ModelVersion carries it: the job attached
    to its model and the state of the version's latest run of it."""

    job_id: str | None
    run_id: str | None
    job_state: ConnectionState
    run_state: str  # MLflow's DeploymentJobRunState name
    current_task_name: str | None = None
