"""A deployment job's definition as its author writes it (YAML, JSON, or the Python objects
`heron.deployment_jobs` builds), read into checked `TaskSpec`s.

    description: release the fraud model
    tasks:
      - {name: evaluate, type: evaluate, model_type: classifier, data: "runs:/<id>/test.csv",
         targets: label, baseline: "@champion",
         thresholds: {accuracy_score: {threshold: 0.8, min_absolute_change: 0}}}
      - {name: approve, type: approve, approvers: [alice], timeout: 3d}
      - {name: deploy, type: deploy, endpoint: fraud, canary: [10, 50, 100], step_interval: 5m}
      - {name: watch, type: post_deploy_check, window: 30m, max_error_rate: 0.01}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import yaml

from heron.entities.deployment_jobs import TaskKind, TaskSpec
from heron.errors import InvalidParameter
from heron.services import deployment_job_params as p

MAX_TASKS = 20
MAX_TASK_NAME = 100
MAX_SOURCE = 100_000
_TASK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\- ]{0,99}$")
_COMMON = ("name", "type", "retries")

CHECKERS: Mapping[TaskKind, Callable[[str, Mapping[str, Any]], object]] = {
    TaskKind.EVALUATE: p.evaluate_params,
    TaskKind.APPROVE: p.approve_params,
    TaskKind.DEPLOY: p.deploy_params,
    TaskKind.POST_DEPLOY_CHECK: p.check_params,
    TaskKind.CUSTOM: p.custom_params,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Definition:
    """A checked definition: its tasks, its description, and the text it was read from."""

    tasks: Sequence[TaskSpec]
    source: str
    description: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomTaskPolicy:
    """What custom tasks may run, as the administrator allowed: Python callables from these
    modules (a prefix matches the package and what is below it), and these programs (the
    first word of a command, by name or path). Nothing by default."""

    modules: Sequence[str] = ()
    commands: Sequence[str] = ()

    def check(self, task: str, params: p.CustomParams) -> None:
        if params.callable is not None:
            module = params.callable.split(":", 1)[0]
            if not any(module == m or module.startswith(m + ".") for m in self.modules):
                raise InvalidParameter(
                    f"Task {task!r}: module {module!r} is not allowed for custom tasks on this "
                    f"server (allowed: {', '.join(self.modules) or 'none'}); the administrator "
                    "lists modules with --job-task-module"
                )
        if params.command and params.command[0] not in self.commands:
            raise InvalidParameter(
                f"Task {task!r}: the program {params.command[0]!r} is not allowed for custom "
                f"tasks on this server (allowed: {', '.join(self.commands) or 'none'}); the "
                "administrator lists programs with --job-task-command"
            )


def read_definition(source: object, custom: CustomTaskPolicy) -> Definition:
    """Reads and checks a definition: YAML or JSON text, or the mapping or list of tasks it
    holds. Raises InvalidParameter naming the task and field at fault."""
    if isinstance(source, str):
        if len(source) > MAX_SOURCE:
            raise InvalidParameter(f"A job definition is at most {MAX_SOURCE} characters")
        try:
            document = yaml.safe_load(source)
        except yaml.YAMLError as exc:
            raise InvalidParameter(f"The job definition is not valid YAML or JSON: {exc}") from None
        text = source
    else:
        document = source
        text = orjson.dumps(source, option=orjson.OPT_INDENT_2).decode() if source else ""
    if isinstance(document, list):
        document = {"tasks": document}
    if not isinstance(document, Mapping):
        raise InvalidParameter("A job definition is a mapping with 'tasks', or a list of tasks")
    unknown = set(document) - {"tasks", "description", "name"}
    if unknown:
        raise InvalidParameter(
            f"Unknown field(s) {', '.join(sorted(map(str, unknown)))} in the job definition; "
            "it takes tasks and description"
        )
    description = document.get("description")
    if description is not None and not isinstance(description, str):
        raise InvalidParameter("The job's description must be text")
    tasks = check_tasks(document.get("tasks"), custom)
    return Definition(tasks=tasks, source=text, description=description)


def check_tasks(raw: object, custom: CustomTaskPolicy) -> list[TaskSpec]:
    if not isinstance(raw, list) or not raw:
        raise InvalidParameter("A job needs a list of tasks, at least one")
    if len(raw) > MAX_TASKS:
        raise InvalidParameter(f"A job has at most {MAX_TASKS} tasks, got {len(raw)}")
    tasks = [_task(i, t, custom) for i, t in enumerate(raw)]
    names = [t.name for t in tasks]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InvalidParameter(f"Task names must be unique in a job; twice: {', '.join(twice)}")
    for index, task in enumerate(tasks):
        if task.kind == TaskKind.POST_DEPLOY_CHECK:
            _check_has_endpoint(task, tasks[:index])
    return tasks


def _task(index: int, raw: object, custom: CustomTaskPolicy) -> TaskSpec:
    if not isinstance(raw, Mapping):
        raise InvalidParameter(f"Task {index + 1} must be a mapping with name and type")
    name = raw.get("name")
    if not isinstance(name, str) or not _TASK_NAME.match(name):
        raise InvalidParameter(
            f"Task {index + 1}: name must be 1-100 letters, digits, spaces, dots, dashes or "
            f"underscores, starting with a letter or digit; got {name!r}"[:300]
        )
    try:
        kind = TaskKind(str(raw.get("type")))
    except ValueError:
        kinds = ", ".join(k.value for k in TaskKind)
        raise InvalidParameter(
            f"Task {name!r}: type must be one of {kinds}, got {raw.get('type')!r}"[:300]
        ) from None
    retries = raw.get("retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 10:
        raise InvalidParameter(f"Task {name!r}: retries must be a whole number from 0 to 10")
    params = {str(k): v for k, v in raw.items() if k not in _COMMON}
    checked = CHECKERS[kind](name, params)
    if isinstance(checked, p.CustomParams):
        custom.check(name, checked)
    return TaskSpec(name=name, kind=kind, params=params, retries=retries)


def _check_has_endpoint(task: TaskSpec, before: Sequence[TaskSpec]) -> None:
    if task.params.get("endpoint"):
        return
    if any(t.kind == TaskKind.DEPLOY and t.params.get("endpoint") for t in before):
        return
    raise InvalidParameter(
        f"Task {task.name!r}: a post-deploy check watches a serving endpoint: give it an "
        "endpoint, or put a deploy task with an endpoint before it"
    )
