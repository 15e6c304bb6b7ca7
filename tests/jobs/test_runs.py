"""Runs of deployment jobs worked off by a real worker on SQLite and PostgreSQL: approvals
through the API and MLflow's tag, custom tasks with their logs, cancel and retry, and every
event in the version's activity log."""

from __future__ import annotations

from typing import Any

import pytest
from tests.jobs.polling import state_is, wait_for

from heron.entities.deployment_jobs import JobRun, RunState, TaskState
from heron.errors import InvalidParameter, PermissionDenied
from heron.services.access import Identity, identity_scope

SOURCE = "mlflow-artifacts:/0/m"


def _model(services: Any, tasks: list[dict[str, Any]], name: str = "fraud") -> str:
    job = services.deployment_jobs.create_job(f"{name}-release", tasks)
    services.registry.create_registered_model(name, deployment_job_id=job.job_id)
    return job.job_id


def _run(services: Any, name: str = "fraud", version: str = "1") -> JobRun:
    run = services.job_runs.latest_run(name, version)
    assert run is not None
    return run


def _waiting(services: Any) -> JobRun:
    return wait_for(lambda: _run(services), state_is(RunState.APPROVAL, RunState.FAILED))


def test_an_approved_version_goes_on_and_the_activity_log_tells_it(
    services: Any, worker: Any
) -> None:
    _model(services, [
        {"name": "approve", "type": "approve"},
        {"name": "smoke", "type": "custom", "callable": "tests.jobs.hooks:smoke"},
    ])  # fmt: skip
    services.registry.create_model_version("fraud", SOURCE)
    waiting = _waiting(services)
    assert waiting.state == RunState.APPROVAL
    assert waiting.tasks[0].state == TaskState.WAITING
    with identity_scope(Identity(name="alice")):
        services.job_runs.decide(waiting.run_id, approved=True, comment="looks good")
    run = wait_for(lambda: _run(services), state_is(RunState.SUCCEEDED, RunState.FAILED))
    assert run.state == RunState.SUCCEEDED
    approve, smoke = run.tasks
    assert approve.detail["approver"] == "alice"
    assert approve.detail["decision"]["comment"] == "looks good"
    assert smoke.metrics == {"smoke_score": 1.0}
    assert "smoke test of models:/fraud/1" in smoke.logs
    events = services.registry.list_model_version_activity("fraud", "1")
    assert [e.kind for e in events] == [
        "created",
        "deployment_job_started",
        "approval_requested",
        "approved",
        "deployment_task_finished",
        "deployment_task_finished",
        "deployment_job_finished",
    ]
    approved = events[3]
    assert (approved.user_id, approved.detail["comment"]) == ("alice", "looks good")
    assert events[-1].detail["state"] == "SUCCEEDED"
    assert services.registry.get_model_version("fraud", "1").deployment_job_state.run_state == (
        "SUCCEEDED"
    )


def test_a_rejected_version_stops_with_the_reason(services: Any, worker: Any) -> None:
    _model(services, [{"name": "approve", "type": "approve"}])
    services.registry.create_model_version("fraud", SOURCE)
    waiting = _waiting(services)
    with identity_scope(Identity(name="bob")):
        services.job_runs.decide(waiting.run_id, approved=False, comment="too slow")
    run = wait_for(lambda: _run(services), state_is(RunState.FAILED))
    assert run.state == RunState.FAILED
    assert run.failure_reason == "approve: rejected by bob: too slow"
    with pytest.raises(InvalidParameter, match="not waiting"):
        services.job_runs.decide(run.run_id, approved=True)


def test_mlflows_tag_approves_once_the_approval_is_asked_for(services: Any, worker: Any) -> None:
    _model(services, [{"name": "Approval_Check", "type": "approve"}])
    services.registry.create_model_version("fraud", SOURCE)
    _waiting(services)
    with identity_scope(Identity(name="carol")):
        services.registry.set_model_version_tag("fraud", "1", "Approval_Check", "Approved")
    run = wait_for(lambda: _run(services), state_is(RunState.SUCCEEDED, RunState.FAILED))
    assert run.state == RunState.SUCCEEDED
    assert run.tasks[0].detail["decision"]["via"] == "tag"
    assert run.tasks[0].detail["approver"] == "carol"


def test_a_tag_set_before_the_approval_was_asked_for_is_no_answer(
    services: Any, worker: Any
) -> None:
    _model(services, [
        {"name": "smoke", "type": "custom", "command": ["sh", "-c", "sleep 1"]},
        {"name": "approve", "type": "approve", "timeout": 3},
    ])  # fmt: skip
    services.registry.create_model_version("fraud", SOURCE)
    services.registry.set_model_version_tag("fraud", "1", "approve", "Approved")
    run = wait_for(lambda: _run(services), state_is(RunState.SUCCEEDED, RunState.FAILED))
    assert run.state == RunState.FAILED
    assert run.failure_reason == "approve: no approval within 3 s"


def test_only_a_listed_approver_may_approve(services: Any, worker: Any) -> None:
    _model(services, [{"name": "approve", "type": "approve", "approvers": ["alice"]}])
    services.registry.create_model_version("fraud", SOURCE)
    waiting = _waiting(services)
    with identity_scope(Identity(name="mallory")), pytest.raises(PermissionDenied, match="alice"):
        services.job_runs.decide(waiting.run_id, approved=True)
    with identity_scope(Identity(name="mallory")), pytest.raises(PermissionDenied):
        services.registry.set_model_version_tag("fraud", "1", "approve", "Approved")
    assert _run(services).state == RunState.APPROVAL


def test_a_failing_custom_task_is_retried_then_fails_the_run_with_its_logs(
    services: Any, worker: Any
) -> None:
    _model(services, [
        {"name": "smoke", "type": "custom", "callable": "tests.jobs.hooks:broken", "retries": 1},
    ])  # fmt: skip
    services.registry.create_model_version("fraud", SOURCE)
    run = wait_for(lambda: _run(services), state_is(RunState.FAILED), timeout_s=60)
    assert run.state == RunState.FAILED
    [smoke] = run.tasks
    assert smoke.attempts == 2
    assert "RuntimeError: smoke test of fraud v1 failed" in (smoke.error or "")
    assert smoke.logs.count("Traceback") == 2


def test_a_command_runs_with_the_version_and_keeps_its_output(services: Any, worker: Any) -> None:
    command = ["sh", "-c", "echo checking {name} $HERON_MODEL_VERSION"]
    _model(services, [{"name": "check", "type": "custom", "command": command}])
    services.registry.create_model_version("fraud", SOURCE)
    run = wait_for(lambda: _run(services), state_is(RunState.SUCCEEDED, RunState.FAILED))
    assert run.state == RunState.SUCCEEDED
    assert "checking fraud 1" in run.tasks[0].logs


def test_a_run_is_cancelled_and_retried_from_the_task_that_stopped(
    services: Any, worker: Any
) -> None:
    _model(services, [
        {"name": "smoke", "type": "custom", "callable": "tests.jobs.hooks:smoke"},
        {"name": "approve", "type": "approve"},
    ])  # fmt: skip
    services.registry.create_model_version("fraud", SOURCE)
    waiting = _waiting(services)
    cancelled = services.job_runs.cancel_run(waiting.run_id, "not today")
    assert cancelled.state == RunState.CANCELLED
    assert [t.state for t in cancelled.tasks] == [TaskState.SUCCEEDED, TaskState.CANCELLED]
    retried = services.job_runs.retry_run(waiting.run_id)
    assert retried.state == RunState.PENDING
    again = _waiting(services)
    assert again.run_id == waiting.run_id
    assert again.tasks[0].attempts == 1  # the task that passed is not run again
    services.job_runs.decide(again.run_id, approved=True)
    done = wait_for(lambda: _run(services), state_is(RunState.SUCCEEDED, RunState.FAILED))
    assert done.state == RunState.SUCCEEDED
    kinds = [e.kind for e in services.registry.list_model_version_activity("fraud", "1")]
    assert kinds.count("deployment_job_finished") == 2  # cancelled, then succeeded
    assert "deployment_job_retried" in kinds


def test_a_run_is_started_by_hand_once_at_a_time(services: Any, worker: Any) -> None:
    services.registry.create_registered_model("fraud")
    services.registry.create_model_version("fraud", SOURCE)
    job = services.deployment_jobs.create_job("release", [{"name": "approve", "type": "approve"}])
    services.registry.update_registered_model("fraud", deployment_job_id=job.job_id)
    run = services.job_runs.start_run("fraud", "1")
    assert run.state == RunState.PENDING
    with pytest.raises(InvalidParameter, match="still going"):
        services.job_runs.start_run("fraud", "1")
    page = services.job_runs.search_runs(name="fraud", states=["pending", "approval"])
    assert [r.run_id for r in page] == [run.run_id]
