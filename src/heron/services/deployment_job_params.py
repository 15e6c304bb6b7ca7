"""The parameters of each kind of deployment job task, read from a job's YAML or JSON and
checked when the job is defined (so a mistake fails at once, not when a version arrives)."""

from __future__ import annotations

import math
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from heron.errors import InvalidParameter

_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(s|m|h|d)?\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, None: 1}
_ALIAS = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
_ENDPOINT = re.compile(r"^[A-Za-z0-9_-]{1,63}$")
_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
_METRIC = re.compile(r"^[\w./\- :]{1,250}$")
MODEL_TYPES = ("classifier", "regressor", "genai")


class Reader:
    """Reads one task's parameters, naming the task and the field in every error."""

    def __init__(self, task: str, params: Mapping[str, Any], known: Sequence[str]) -> None:
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise InvalidParameter(
                f"Task {task!r}: unknown field(s) {', '.join(unknown)}; this kind of task "
                f"takes {', '.join(known)}"
            )
        self.task = task
        self.params = params

    def fail(self, field_: str, what: str) -> InvalidParameter:
        return InvalidParameter(f"Task {self.task!r}: {field_} {what}")

    def text(self, name: str, *, required: bool = False, limit: int = 1000) -> str | None:
        value = self.params.get(name)
        if value is None:
            if required:
                raise self.fail(name, "is required")
            return None
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            raise self.fail(name, f"must be a non-empty string of at most {limit} characters")
        return value

    def number(self, name: str, default: float, *, low: float, high: float) -> float:
        value = self.params.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, f"must be a number, got {value!r}"[:200])
        if not (low <= value <= high) or not math.isfinite(value):
            raise self.fail(name, f"must be between {low:g} and {high:g}, got {value}")
        return float(value)

    def duration(self, name: str, default: float, *, high: float) -> float:
        """Seconds, given as a number or as text with a unit: `90`, `30s`, `15m`, `2h`, `7d`."""
        value = self.params.get(name, default)
        if isinstance(value, str):
            found = _DURATION.match(value)
            if found is None:
                raise self.fail(
                    name, f"must be seconds or a duration like 15m, 2h or 7d, got {value!r}"[:200]
                )
            value = float(found.group(1)) * _UNITS[found.group(2)]
        seconds = self.number_value(name, value)
        if not 0 < seconds <= high:
            raise self.fail(name, f"must be more than 0 and at most {high:g} seconds")
        return seconds

    def number_value(self, name: str, value: object) -> float:
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.fail(name, f"must be a number, got {value!r}"[:200])
        return float(value)

    def names(self, name: str, *, pattern: re.Pattern[str] | None = None) -> tuple[str, ...]:
        value = self.params.get(name, ())
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(name, "must be a list of names")
        if pattern is not None:
            for item in value:
                if not pattern.match(item):
                    raise self.fail(name, f"holds an invalid name {item!r}"[:200])
        return tuple(value)


@dataclass(frozen=True, slots=True, kw_only=True)
class Threshold:
    """MLflow's MetricThreshold, as a job writes it."""

    threshold: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None
    greater_is_better: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluateParams:
    model_type: str
    data: str | None = None  # an artifact URI of a CSV, JSON lines or Parquet file
    dataset: str | None = None  # or an evaluation dataset's name (GenAI)
    targets: str | None = None
    scorers: tuple[str, ...] = ()
    thresholds: Mapping[str, Threshold] = field(default_factory=dict)
    baseline: str | None = None  # "@champion" or a version number
    experiment: str = "deployment-jobs"


def evaluate_params(task: str, params: Mapping[str, Any]) -> EvaluateParams:
    r = Reader(
        task,
        params,
        (
            "model_type",
            "data",
            "dataset",
            "targets",
            "scorers",
            "thresholds",
            "baseline",
            "experiment",
        ),
    )
    model_type = r.text("model_type", required=True)
    if model_type not in MODEL_TYPES:
        raise r.fail("model_type", f"must be one of {', '.join(MODEL_TYPES)}, got {model_type!r}")
    data, dataset = r.text("data"), r.text("dataset", limit=500)
    if (data is None) == (dataset is None):
        raise r.fail(
            "data",
            "or dataset is required (one of them): a file's artifact URI, "
            "or an evaluation dataset's name",
        )
    targets = r.text("targets", limit=250)
    if model_type != "genai" and targets is None:
        raise r.fail("targets", f"(the label column) is required for a {model_type}")
    scorers = r.names("scorers")
    if model_type == "genai" and not scorers:
        raise r.fail("scorers", "must name at least one scorer for a GenAI evaluation")
    baseline = r.text("baseline", limit=256)
    if baseline is not None and not (
        (baseline.startswith("@") and _ALIAS.match(baseline[1:])) or baseline.isdigit()
    ):
        raise r.fail(
            "baseline", f"must be an alias like @champion or a version number, not {baseline!r}"
        )
    return EvaluateParams(
        model_type=model_type,
        data=data,
        dataset=dataset,
        targets=targets,
        scorers=scorers,
        thresholds=_thresholds(r),
        baseline=baseline,
        experiment=r.text("experiment", limit=500) or "deployment-jobs",
    )


def _thresholds(r: Reader) -> dict[str, Threshold]:
    raw = r.params.get("thresholds") or {}
    if not isinstance(raw, Mapping):
        raise r.fail("thresholds", "must map metric names to thresholds")
    found: dict[str, Threshold] = {}
    for metric, value in raw.items():
        if not isinstance(metric, str) or not _METRIC.match(metric):
            raise r.fail("thresholds", f"names an invalid metric {metric!r}"[:200])
        found[metric] = _threshold(r, metric, value)
    return found


def _threshold(r: Reader, metric: str, value: object) -> Threshold:
    where = f"thresholds.{metric}"
    if not isinstance(value, Mapping):
        return Threshold(threshold=r.number_value(where, value))
    keys = {"threshold", "min_absolute_change", "min_relative_change", "greater_is_better"}
    if set(value) - keys or not value:
        raise r.fail(where, f"takes {', '.join(sorted(keys))}")
    better = value.get("greater_is_better", True)
    if not isinstance(better, bool):
        raise r.fail(f"{where}.greater_is_better", "must be true or false")
    numbers = {}
    for key in ("threshold", "min_absolute_change", "min_relative_change"):
        if value.get(key) is not None:
            numbers[key] = r.number_value(f"{where}.{key}", value[key])
            if key != "threshold" and numbers[key] < 0:
                raise r.fail(f"{where}.{key}", "must not be negative")
    if not numbers:
        raise r.fail(where, "needs a threshold, a min_absolute_change or a min_relative_change")
    return Threshold(greater_is_better=better, **numbers)


@dataclass(frozen=True, slots=True, kw_only=True)
class ApproveParams:
    approvers: tuple[str, ...] = ()  # empty: anyone with PROMOTE on the model
    timeout_s: float = 7 * 86400.0
    tag: str = ""  # the version tag MLflow's way reads (default: the task's name)
    alias: str | None = None  # the alias approving promotes to (PROMOTE may be limited to it)


def approve_params(task: str, params: Mapping[str, Any]) -> ApproveParams:
    r = Reader(task, params, ("approvers", "timeout", "tag", "alias"))
    alias = r.text("alias", limit=255)
    if alias is not None and not _ALIAS.match(alias):
        raise r.fail("alias", f"is not a valid alias: {alias!r}"[:200])
    return ApproveParams(
        approvers=r.names("approvers"),
        timeout_s=r.duration("timeout", 7 * 86400.0, high=365 * 86400.0),
        tag=r.text("tag", limit=250) or task,
        alias=alias,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeployParams:
    alias: str | None = None
    endpoint: str | None = None
    canary: tuple[int, ...] = (100,)
    step_interval_s: float = 60.0
    ready_timeout_s: float = 600.0
    workload_size: str = "Small"


def deploy_params(task: str, params: Mapping[str, Any]) -> DeployParams:
    r = Reader(
        task,
        params,
        ("alias", "endpoint", "canary", "step_interval", "ready_timeout", "workload_size"),
    )
    alias, endpoint = r.text("alias", limit=255), r.text("endpoint", limit=63)
    if alias is None and endpoint is None:
        raise r.fail("alias", "or endpoint is required: where the version is deployed")
    if alias is not None and not _ALIAS.match(alias):
        raise r.fail("alias", f"is not a valid alias: {alias!r}"[:200])
    if endpoint is not None and not _ENDPOINT.match(endpoint):
        raise r.fail("endpoint", f"is not a valid serving endpoint name: {endpoint!r}"[:200])
    canary = r.params.get("canary", [100])
    if (
        not isinstance(canary, list | tuple)
        or not canary
        or not all(isinstance(p, int) and not isinstance(p, bool) for p in canary)
        or list(canary) != sorted(set(canary))
        or canary[0] < 1
        or canary[-1] != 100
    ):
        raise r.fail(
            "canary", "must be increasing traffic percentages ending with 100, e.g. [10, 50, 100]"
        )
    if endpoint is None and list(canary) != [100]:
        raise r.fail("canary", "needs an endpoint: an alias moves all at once")
    size = r.text("workload_size") or "Small"
    if size not in ("Small", "Medium", "Large"):
        raise r.fail("workload_size", "must be Small, Medium or Large")
    return DeployParams(
        alias=alias,
        endpoint=endpoint,
        canary=tuple(canary),
        step_interval_s=r.duration("step_interval", 60.0, high=7 * 86400.0),
        ready_timeout_s=r.duration("ready_timeout", 600.0, high=86400.0),
        workload_size=size,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckParams:
    endpoint: str | None = None  # default: the endpoint of the deploy task before it
    window_s: float = 600.0
    poll_s: float = 10.0
    max_error_rate: float | None = None  # share of answers with a 5xx status
    max_latency_ms: float | None = None
    latency_percentile: float = 95.0
    min_requests: int = 1
    rollback: bool = True


def check_params(task: str, params: Mapping[str, Any]) -> CheckParams:
    r = Reader(
        task,
        params,
        (
            "endpoint",
            "window",
            "poll",
            "max_error_rate",
            "max_latency_ms",
            "latency_percentile",
            "min_requests",
            "rollback",
        ),
    )
    endpoint = r.text("endpoint", limit=63)
    if endpoint is not None and not _ENDPOINT.match(endpoint):
        raise r.fail("endpoint", f"is not a valid serving endpoint name: {endpoint!r}"[:200])
    error_rate = (
        None
        if r.params.get("max_error_rate") is None
        else r.number("max_error_rate", 0.0, low=0.0, high=1.0)
    )
    latency = (
        None
        if r.params.get("max_latency_ms") is None
        else r.number("max_latency_ms", 0.0, low=0.0, high=3_600_000.0)
    )
    if error_rate is None and latency is None:
        raise r.fail("max_error_rate", "or max_latency_ms is required: the limit to watch")
    rollback = r.params.get("rollback", True)
    if not isinstance(rollback, bool):
        raise r.fail("rollback", "must be true or false")
    return CheckParams(
        endpoint=endpoint,
        window_s=r.duration("window", 600.0, high=7 * 86400.0),
        poll_s=r.duration("poll", 10.0, high=3600.0),
        max_error_rate=error_rate,
        max_latency_ms=latency,
        latency_percentile=r.number("latency_percentile", 95.0, low=1.0, high=100.0),
        min_requests=int(r.number("min_requests", 1, low=1, high=1_000_000)),
        rollback=rollback,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class CustomParams:
    callable: str | None = None  # "package.module:function"
    command: tuple[str, ...] = ()  # argv; {name}, {version}, {run_id} are filled in
    timeout_s: float = 3600.0


def custom_params(task: str, params: Mapping[str, Any]) -> CustomParams:
    r = Reader(task, params, ("callable", "command", "timeout"))
    target = r.text("callable", limit=500)
    command = r.params.get("command")
    if (target is None) == (command is None):
        raise r.fail("callable", "or command is required (one of them)")
    if target is not None and not _CALLABLE.match(target):
        raise r.fail("callable", f"must be written package.module:function, not {target!r}"[:200])
    argv: tuple[str, ...] = ()
    if command is not None:
        if isinstance(command, str):
            command = shlex.split(command)
        if (
            not isinstance(command, list | tuple)
            or not command
            or not all(isinstance(a, str) for a in command)
        ):
            raise r.fail("command", "must be a command line or a list of its words")
        argv = tuple(command)
    return CustomParams(
        callable=target, command=argv, timeout_s=r.duration("timeout", 3600.0, high=86400.0)
    )
