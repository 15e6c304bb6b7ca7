"""The post-deploy check: watches what the endpoint's inference table records of the deployed
version's answers for a window (their error rate and latency), and rolls the deploy back by
itself as soon as a limit is crossed.

The requests counted are those the version answered since the check started watching (a
worker that takes it over after a crash goes on with the same window). An endpoint that does
not capture requests is judged on its per-minute figures instead (whole minutes, latency from
the histogram's buckets). Too few requests to judge by the window's end pass, with a note."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from heron.clock import now_ms
from heron.entities.deployment_jobs import TaskKind
from heron.entities.serving import LATENCY_BUCKETS_MS
from heron.services.deployment_job_deploy import roll_back
from heron.services.deployment_job_params import CheckParams, check_params
from heron.services.deployment_job_runner import TaskContext
from heron.services.inference import InferenceService
from heron.services.registry import RegistryService
from heron.services.serving_endpoints import EndpointService
from heron.store.deployment_jobs import Outcome

_MAX_RECORDS = 200_000  # read per look at most (a busy endpoint's window)


@dataclass(frozen=True, slots=True)
class Figures:
    requests: int
    errors: int
    latency_ms: float | None  # at the asked percentile

    @property
    def error_rate(self) -> float:
        return self.errors / self.requests if self.requests else 0.0


def percentile(values: Sequence[float], q: float) -> float | None:
    """The `q`th percentile (nearest rank) of `values`."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


class CheckTask:
    def __init__(
        self, registry: RegistryService, endpoints: EndpointService, inference: InferenceService
    ) -> None:
        self._registry = registry
        self._endpoints = endpoints
        self._inference = inference

    def __call__(self, ctx: TaskContext) -> Outcome:
        params = check_params(ctx.spec.name, ctx.spec.params)
        endpoint = params.endpoint or _deployed_endpoint(ctx)
        started = ctx.task.detail.get("watch_started")
        if started is None:
            started = now_ms()
            ctx.save({"watch_started": started, "endpoint": endpoint})
            ctx.log(f"Watching endpoint {endpoint} for {params.window_s:g} s")
        deadline = int(started) + int(params.window_s * 1000)
        while True:
            figures = self.measure(endpoint, ctx.run.version, int(started), params)
            metrics = _metrics(figures, params)
            crossed = _crossed(figures, params)
            if crossed is not None:
                return self._fail(ctx, params, metrics, crossed)
            left = deadline - now_ms()
            if left <= 0:
                break
            ctx.save({"figures": metrics})
            ctx.sleep(min(params.poll_s, left / 1000))
        if figures.requests < params.min_requests:
            ctx.log(
                f"Only {figures.requests} request(s) in the window, fewer than the "
                f"{params.min_requests} needed to judge: passed"
            )
        else:
            ctx.log(f"Kept: {metrics}")
        return Outcome(succeeded=True, metrics=metrics)

    def _fail(
        self, ctx: TaskContext, params: CheckParams, metrics: dict[str, float], crossed: str
    ) -> Outcome:
        ctx.log(f"Limit crossed: {crossed}")
        if not params.rollback:
            return Outcome(error=crossed, metrics=metrics)
        event = roll_back(ctx, self._registry, self._endpoints, crossed)
        return Outcome(error=f"{crossed}; rolled back", metrics=metrics, events=[event])

    def measure(self, endpoint: str, version: str, since: int, params: CheckParams) -> Figures:
        """The version's answers on `endpoint` since `since` (ms)."""
        codes: list[int] = []
        durations: list[float] = []
        for record in self._inference.all_records(endpoint, start_time=since):
            if record.served_version == version:
                codes.append(record.status_code)
                durations.append(float(record.execution_duration_ms))
            if len(codes) >= _MAX_RECORDS:
                break
        if codes:
            errors = sum(1 for c in codes if c >= 500)
            return Figures(len(codes), errors, percentile(durations, params.latency_percentile))
        return self._from_minutes(endpoint, version, since, params)

    def _from_minutes(
        self, endpoint: str, version: str, since: int, params: CheckParams
    ) -> Figures:
        minutes = [
            m
            for m in self._inference.minutes(endpoint, since=since - since % 60_000)
            if m.served_version == version
        ]
        requests = sum(m.requests for m in minutes)
        errors = sum(m.errors_5xx for m in minutes)
        buckets = [sum(b) for b in zip(*(m.latency_buckets for m in minutes), strict=True)]
        return Figures(requests, errors, _bucket_percentile(buckets, params.latency_percentile))


def _bucket_percentile(buckets: Sequence[int], q: float) -> float | None:
    """The upper bound of the histogram bucket holding the `q`th percentile."""
    total = sum(buckets)
    if not total:
        return None
    rank, seen = math.ceil(q / 100 * total), 0
    for index, count in enumerate(buckets):
        seen += count
        if seen >= rank:
            return float(LATENCY_BUCKETS_MS[min(index, len(LATENCY_BUCKETS_MS) - 1)])
    return float(LATENCY_BUCKETS_MS[-1])


def _metrics(f: Figures, params: CheckParams) -> dict[str, float]:
    metrics = {"requests": float(f.requests), "error_rate": f.error_rate}
    if f.latency_ms is not None:
        metrics[f"latency_p{params.latency_percentile:g}_ms"] = f.latency_ms
    return metrics


def _crossed(f: Figures, params: CheckParams) -> str | None:
    if f.requests < params.min_requests:
        return None
    if params.max_error_rate is not None and f.error_rate > params.max_error_rate:
        return (
            f"error rate {f.error_rate:.2%} over {f.requests} requests is above "
            f"{params.max_error_rate:.2%}"
        )
    latency, limit = f.latency_ms, params.max_latency_ms
    if limit is not None and latency is not None and latency > limit:
        return (
            f"p{params.latency_percentile:g} latency {latency:g} ms over {f.requests} requests "
            f"is above {limit:g} ms"
        )
    return None


def _deployed_endpoint(ctx: TaskContext) -> str:
    for spec, _ in ctx.earlier(TaskKind.DEPLOY):
        if spec.params.get("endpoint"):
            return str(spec.params["endpoint"])
    raise ValueError("no endpoint to watch")  # the definition's check makes this impossible
