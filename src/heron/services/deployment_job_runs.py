"""JobRunService: runs of deployment jobs, one model version each. A new version starts its
model's job by itself (the store does it with the version); by hand, a run is started,
cancelled, retried from the task that stopped it, and its approvals answered."""

from __future__ import annotations

from collections.abc import Sequence

from heron.clock import now_ms
from heron.entities import Page
from heron.entities.deployment_jobs import JobRun, RunState, TaskKind, TaskState
from heron.errors import InvalidParameter
from heron.services import validation as v
from heron.services.access import Authorizer, authorize
from heron.services.deployment_job_approvals import check_approver
from heron.services.registry_rules import check_model_name, check_version
from heron.store.deployment_jobs import Decision, DeploymentJobStore, JobRunStore, RunQuery

MAX_RESULTS = 1000
MAX_COMMENT = 10_000
_VIA = ("api", "ui", "cli")


class JobRunService:
    def __init__(self, runs: JobRunStore, jobs: DeploymentJobStore, authorizer: Authorizer) -> None:
        self._runs = runs
        self._jobs = jobs
        self._authorizer = authorizer

    def start_run(self, name: str, version: str) -> JobRun:
        """Runs the model's deployment job for `version` now (its latest definition)."""
        check_model_name(name)
        version = check_version(version)
        actor = authorize(self._authorizer, "update", "registered_model", name).name
        return self._runs.start_run(name, version, actor=actor)

    def get_run(self, run_id: str) -> JobRun:
        run = self._runs.get_run(_run_id(run_id))
        authorize(self._authorizer, "read", "registered_model", run.name)
        return run

    def latest_run(self, name: str, version: str) -> JobRun | None:
        """The version's newest run (the one its page and MLflow's state show)."""
        check_model_name(name)
        version = check_version(version)
        authorize(self._authorizer, "read", "registered_model", name)
        return self._runs.latest_run(name, version)

    def search_runs(
        self,
        *,
        name: str | None = None,
        version: str | None = None,
        job_id: str | None = None,
        states: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[JobRun]:
        """Runs newest first, of one model (and version), one job, in some states."""
        if name is not None:
            check_model_name(name)
        if version is not None:
            version = check_version(version)
        authorize(self._authorizer, "read", "registered_model", name or "")
        query = RunQuery(
            name=name,
            version=version,
            job_id=job_id or None,
            states=[_state(s) for s in states],
            max_results=v.check_max_results(max_results, MAX_RESULTS),
            page_token=page_token or None,
        )
        return self._runs.search_runs(query)

    def cancel_run(self, run_id: str, reason: str | None = None) -> JobRun:
        run = self._runs.get_run(_run_id(run_id))
        actor = authorize(self._authorizer, "update", "registered_model", run.name).name
        text = _comment(reason or f"cancelled by {actor}", "reason")
        return self._runs.cancel_run(run.run_id, actor=actor, reason=text)

    def retry_run(self, run_id: str) -> JobRun:
        """Runs a failed or cancelled run again, from the task that stopped it."""
        run = self._runs.get_run(_run_id(run_id))
        actor = authorize(self._authorizer, "update", "registered_model", run.name).name
        return self._runs.retry_run(run.run_id, actor=actor)

    def decide(
        self,
        run_id: str,
        *,
        approved: bool,
        comment: str = "",
        task: str | None = None,
        via: str = "api",
    ) -> JobRun:
        """Approves or rejects the run's waiting approval (`task`, or the one waiting), as the
        caller: who must hold PROMOTE on the model and be among the task's approvers."""
        if not isinstance(approved, bool):
            raise InvalidParameter("approved must be true or false")
        if via not in _VIA:
            raise InvalidParameter(f"via must be one of {', '.join(_VIA)}")
        run = self._runs.get_run(_run_id(run_id))
        authorize(self._authorizer, "read", "registered_model", run.name)
        name = task or _waiting_approval(run)
        spec = next(
            (
                s
                for s in self._jobs.get_job_version(run.job_id, run.job_version).tasks
                if s.name == name and s.kind == TaskKind.APPROVE
            ),
            None,
        )
        if spec is None:
            raise InvalidParameter(f"Run {run.run_id!r} has no approval task {name!r}")
        identity = check_approver(self._authorizer, run.name, spec)
        decision = Decision(
            approved=approved,
            user_id=identity.name,
            comment=_comment(comment, "comment"),
            timestamp=now_ms(),
            via=via,
        )
        return self._runs.decide(run.run_id, name, decision)


def _waiting_approval(run: JobRun) -> str:
    for task in run.tasks:
        if task.kind == TaskKind.APPROVE and task.state == TaskState.WAITING:
            return task.name
    raise InvalidParameter(
        f"Run {run.run_id!r} is not waiting for an approval (it is {run.state.value}"
        + (f", at task {run.current_task!r})" if run.current_task else ")")
    )


def _run_id(run_id: object) -> str:
    text = v.check_string("run_id", run_id)
    if not text:
        raise InvalidParameter("Missing value for required parameter 'run_id'")
    return v.check_length("run_id", text, 36)


def _comment(text: object, what: str) -> str:
    return v.check_length(what, v.check_string(what, text), MAX_COMMENT)


def _state(state: str) -> RunState:
    try:
        return RunState(str(state).upper())
    except ValueError:
        names = ", ".join(s.value for s in RunState)
        raise InvalidParameter(f"Unknown run state {state!r}: use {names}") from None
