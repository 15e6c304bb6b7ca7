"""Who may approve a model version in a deployment job: a holder of PROMOTE on the model (on
the alias the approval promotes to, when it names one) who is among the task's approvers, when
it lists some. The same rule guards every way to approve: the API, the UI, the CLI, and
MLflow's way, a version tag the approval task reads (`ApprovalTags`, the registry's guard)."""

from __future__ import annotations

from heron.entities.deployment_jobs import TaskKind, TaskSpec
from heron.errors import PermissionDenied
from heron.services.access import Authorizer, Identity, authorize
from heron.services.deployment_job_params import ApproveParams, approve_params
from heron.store.deployment_jobs import DeploymentJobStore

APPROVED_VALUES = frozenset({"approved", "approve", "yes", "true"})
REJECTED_VALUES = frozenset({"rejected", "reject", "no", "false"})


def promote_target(name: str, params: ApproveParams) -> str:
    """What PROMOTE is asked on: the model, or `model@alias` for an approval to one alias."""
    return f"{name}@{params.alias}" if params.alias else name


def check_approver(authorizer: Authorizer, name: str, task: TaskSpec) -> Identity:
    """The caller, when they may answer approval task `task` of model `name`'s job; raises
    PermissionDenied (or Unauthenticated) otherwise."""
    params = approve_params(task.name, task.params)
    if params.alias:
        identity = authorize(authorizer, "promote", "model_alias", promote_target(name, params))
    else:
        identity = authorize(authorizer, "promote", "registered_model", name)
    if params.approvers and identity.name not in params.approvers:
        raise PermissionDenied(
            f"Only {', '.join(params.approvers)} may answer approval {task.name!r} of "
            f"{name!r}; you are {identity.name!r}"
        )
    return identity


class ApprovalTags:
    """The registry's tag guard: setting or deleting the tag an approval task of the model's
    deployment job reads is approving (or taking it back), so it needs the approver's rights."""

    def __init__(self, jobs: DeploymentJobStore, authorizer: Authorizer) -> None:
        self._jobs = jobs
        self._authorizer = authorizer

    def check_tag(self, name: str, version: str, key: str) -> None:
        job = self._jobs.attached_job(name)
        if job is None:
            return
        for task in job.tasks:
            if task.kind == TaskKind.APPROVE and approve_params(task.name, task.params).tag == key:
                check_approver(self._authorizer, name, task)
