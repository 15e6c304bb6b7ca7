"""The approve task: asks for a person's approval, then waits for it (polling, so a worker
holds nothing while it waits) until someone who may approves or rejects, or the timeout.

A person answers through the API, the UI or the CLI (`JobRunService.decide`, kept on the
task), or MLflow's way: setting the version tag the task reads (its name by default) to
`Approved` or `Rejected` after the approval was asked for. Who may answer is the same either
way (`deployment_job_approvals`): the registry refuses the tag to anyone else."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from heron.clock import now_ms
from heron.services.deployment_job_approvals import APPROVED_VALUES, REJECTED_VALUES
from heron.services.deployment_job_params import ApproveParams, approve_params
from heron.services.deployment_job_runner import TaskContext
from heron.services.registry import RegistryService
from heron.store.deployment_jobs import Event, Outcome

POLL_S = 2.0  # how often a waiting approval looks for MLflow's tag


class ApproveTask:
    def __init__(self, registry: RegistryService, *, poll_s: float = POLL_S) -> None:
        self._registry = registry
        self._poll_s = poll_s

    def __call__(self, ctx: TaskContext) -> Outcome:
        params = approve_params(ctx.spec.name, ctx.spec.params)
        now = now_ms()
        requested = ctx.task.detail.get("requested_at")
        events: list[Event] = []
        detail: dict[str, Any] = {}
        if requested is None:
            requested = now
            deadline = now + int(params.timeout_s * 1000)
            detail = {
                "requested_at": requested,
                "timeout_at": deadline,
                "approvers": list(params.approvers),
                "tag": params.tag,
            }
            events.append(
                Event(
                    kind="approval_requested",
                    action="APPROVAL_REQUESTED",
                    detail={"task": ctx.spec.name, **detail},
                )
            )
            ctx.log(f"Approval requested (tag {params.tag!r}, or the API, UI or CLI)")
        deadline = int(ctx.task.detail.get("timeout_at") or detail["timeout_at"])
        decision = ctx.task.detail.get("decision") or self._from_tag(ctx, params, int(requested))
        if decision is not None:
            return _decided(ctx, decision, events)
        if now >= deadline:
            return Outcome(
                error=f"no approval within {params.timeout_s:g} s", detail=detail, events=events
            )
        wake = min(deadline, now + int(self._poll_s * 1000))
        return Outcome(wait_until=wake, detail=detail, events=events)

    def _from_tag(
        self, ctx: TaskContext, params: ApproveParams, requested: int
    ) -> Mapping[str, Any] | None:
        """MLflow's way: the version tag, set after the approval was asked for."""
        name, version = ctx.run.name, ctx.run.version
        value = self._registry.get_model_version(name, version).tags.get(params.tag)
        if value is None or value.lower() not in APPROVED_VALUES | REJECTED_VALUES:
            return None
        set_by = [
            e
            for e in self._registry.list_model_version_activity(name, version)
            if e.kind == "tag_set" and e.detail.get("key") == params.tag
        ]
        if not set_by or set_by[-1].timestamp < requested:
            return None  # set before this approval was asked for: not an answer to it
        event = set_by[-1]
        if params.approvers and event.user_id not in params.approvers:
            ctx.log(f"Tag {params.tag!r} set by {event.user_id!r}, who is not an approver")
            return None
        return {
            "approved": value.lower() in APPROVED_VALUES,
            "user_id": event.user_id,
            "comment": "",
            "timestamp": event.timestamp,
            "via": "tag",
        }


def _decided(ctx: TaskContext, decision: Mapping[str, Any], events: list[Event]) -> Outcome:
    user, comment = decision.get("user_id"), decision.get("comment") or ""
    detail = {"decision": dict(decision), "approver": user}
    if decision.get("via") == "tag":  # an answer through the API was logged when given
        kind = "approved" if decision.get("approved") else "rejected"
        events.append(
            Event(
                kind=kind,
                actor=user,
                detail={"task": ctx.spec.name, "comment": comment, "via": "tag"},
            )
        )
    said = f": {comment}" if comment else ""
    if decision.get("approved"):
        ctx.log(f"Approved by {user}{said}")
        return Outcome(succeeded=True, detail=detail, events=events)
    ctx.log(f"Rejected by {user}{said}")
    return Outcome(error=f"rejected by {user}{said}", detail=detail, events=events)
