"""The custom task: a Python callable (`package.module:function`) or a command, each only
from what the administrator allowed, with its output kept in the task's logs.

A callable gets a `TaskInfo` and may return a mapping of metrics; raising fails the task. A
command runs with `{name}`, `{version}`, `{run_id}` filled into its arguments and the same in
its environment (`HERON_MODEL_NAME`, `HERON_MODEL_VERSION`, `HERON_JOB_RUN_ID`,
`HERON_MODEL_URI`); exit status 0 passes."""

from __future__ import annotations

import importlib
import math
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from heron.errors import InvalidParameter
from heron.services.deployment_job_params import CustomParams, custom_params
from heron.services.deployment_job_runner import TaskContext, TaskLost
from heron.services.deployment_job_specs import CustomTaskPolicy
from heron.store.deployment_jobs import Outcome

_OUTPUT_LIMIT = 64 * 1024  # characters of a command's output kept (the last ones)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskInfo:
    """What a custom task's callable is told about the run it is part of."""

    name: str  # the registered model
    version: str
    run_id: str
    job_name: str
    task: str
    model_uri: str  # models:/<name>/<version>
    log: Callable[[str], None]  # adds a line to the task's logs


class CustomTask:
    def __init__(self, policy: CustomTaskPolicy, *, env: Mapping[str, str] | None = None) -> None:
        self._policy = policy
        self._env = dict(env or {})

    def __call__(self, ctx: TaskContext) -> Outcome:
        params = custom_params(ctx.spec.name, ctx.spec.params)
        try:
            self._policy.check(ctx.spec.name, params)  # the worker's own lists decide
        except InvalidParameter as exc:
            return Outcome(error=exc.message)
        if params.callable is not None:
            return _call(ctx, params.callable)
        return self._command(ctx, params)

    def _command(self, ctx: TaskContext, params: CustomParams) -> Outcome:
        run = ctx.run
        values = {"name": run.name, "version": run.version, "run_id": run.run_id}
        argv = [params.command[0], *(a.format_map(values) for a in params.command[1:])]
        env = {
            **os.environ,
            **self._env,
            "HERON_MODEL_NAME": run.name,
            "HERON_MODEL_VERSION": run.version,
            "HERON_JOB_RUN_ID": run.run_id,
            "HERON_MODEL_URI": _uri(run.name, run.version),
        }
        ctx.log(f"$ {' '.join(argv)}")
        with tempfile.TemporaryFile() as out:
            proc = subprocess.Popen(  # noqa: S603 - a program the administrator allowed
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
            code = _wait(ctx, proc, params.timeout_s)
            out.seek(0)
            text = out.read().decode(errors="replace")[-_OUTPUT_LIMIT:]
        if text:
            ctx.log(text.rstrip("\n"))
        if code is None:
            return Outcome(error=f"{argv[0]} did not finish within {params.timeout_s:g} s")
        if code != 0:
            return Outcome(error=f"{argv[0]} exited with status {code}", retryable=True)
        return Outcome(succeeded=True)


def _wait(ctx: TaskContext, proc: subprocess.Popen[bytes], timeout_s: float) -> int | None:
    """The exit status, or None after the timeout (the process is killed)."""
    deadline = time.monotonic() + timeout_s
    try:
        while proc.poll() is None:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                return None
            ctx.sleep(0.1)
    except TaskLost:
        proc.kill()
        proc.wait()
        raise
    return proc.returncode


def _call(ctx: TaskContext, target: str) -> Outcome:
    module_name, _, attribute = target.partition(":")
    function: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        function = getattr(function, part)
    run = ctx.run
    info = TaskInfo(
        name=run.name,
        version=run.version,
        run_id=run.run_id,
        job_name=run.job_name,
        task=ctx.spec.name,
        model_uri=_uri(run.name, run.version),
        log=ctx.log,
    )
    result = function(info)
    metrics = _metrics(result) if result is not None else {}
    return Outcome(succeeded=True, metrics=metrics)


def _metrics(result: object) -> dict[str, float]:
    if not isinstance(result, Mapping):
        raise InvalidParameter("A custom task's callable returns None or a mapping of metrics")
    found = {}
    for key, value in result.items():
        number = float(value)
        if not math.isfinite(number):
            raise InvalidParameter(f"Metric {key!r} of a custom task is not a finite number")
        found[str(key)] = number
    return found


def _uri(name: str, version: str) -> str:
    return f"models:/{name}/{version}"
