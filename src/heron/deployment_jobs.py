"""Deployment jobs written in Python: the same definition as the YAML, built from objects.

    from heron.deployment_jobs import Approve, Deploy, Evaluate, PostDeployCheck, job_definition

    client.create_deployment_job("fraud-release", job_definition([
        Evaluate("evaluate", model_type="classifier", data="runs:/<id>/test.csv",
                 targets="label", baseline="@champion",
                 thresholds={"accuracy_score": {"threshold": 0.8, "min_absolute_change": 0}}),
        Approve("approve", approvers=["alice"], timeout="3d"),
        Deploy("deploy", endpoint="fraud", canary=[10, 50, 100], step_interval="5m"),
        PostDeployCheck("watch", window="30m", max_error_rate=0.01),
    ]))

Every parameter has the YAML field's name and meaning (docs/jobs.md); the server
checks them when the job is created."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from heron.errors import InvalidParameter


class Task:
    """One task: its name, kind (`type`), parameters, and retries of a failed attempt."""

    kind = ""

    def __init__(self, name: str, *, retries: int = 0, **params: Any) -> None:
        self.name = name
        self.retries = retries
        self.params = {k: v for k, v in params.items() if v is not None}

    def document(self) -> dict[str, Any]:
        """The task as the job's YAML writes it."""
        return {"name": self.name, "type": self.kind, "retries": self.retries, **self.params}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {self.params!r})"


class Evaluate(Task):
    kind = "evaluate"


class Approve(Task):
    kind = "approve"


class Deploy(Task):
    kind = "deploy"


class PostDeployCheck(Task):
    kind = "post_deploy_check"


class Custom(Task):
    """`fn` is a function importable by the workers (`package.module:function` is written
    for it), or give `callable=` or `command=` as the YAML does."""

    kind = "custom"

    def __init__(
        self, name: str, fn: Callable[..., Any] | None = None, *, retries: int = 0, **params: Any
    ) -> None:
        if fn is not None:
            params["callable"] = callable_name(fn)
        super().__init__(name, retries=retries, **params)


def callable_name(fn: Callable[..., Any]) -> str:
    """`package.module:function` for a function a worker can import by that name."""
    module, qualname = getattr(fn, "__module__", None), getattr(fn, "__qualname__", "")
    if not module or module == "__main__" or "<" in qualname:
        raise InvalidParameter(
            "A custom task's function must be importable by the workers: define it at the top "
            "of a module on their path (not in __main__, a lambda or another function)"
        )
    return f"{module}:{qualname}"


def job_definition(
    tasks: Sequence[Task | Mapping[str, Any]], *, description: str | None = None
) -> dict[str, Any]:
    """The definition `create_deployment_job` takes, as its YAML would read."""
    documents = [t.document() if isinstance(t, Task) else dict(t) for t in tasks]
    definition: dict[str, Any] = {"tasks": documents}
    if description is not None:
        definition["description"] = description
    return definition


__all__ = [
    "Approve",
    "Custom",
    "Deploy",
    "Evaluate",
    "PostDeployCheck",
    "Task",
    "callable_name",
    "job_definition",
]
