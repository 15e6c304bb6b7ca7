"""An endpoint's per-minute figures as the endpoint page shows them: request rate, latency
percentiles and error rate per served version (chart series), the shadows' verdicts, and the
captures dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from heron.entities.serving import LATENCY_BUCKETS_MS, EndpointMinute

PERCENTILES = (0.5, 0.95, 0.99)


@dataclass(frozen=True, slots=True)
class ShadowVerdict:
    served_entity: str
    served_version: str
    requests: int
    agreement: float | None  # of the shadow requests that answered
    errors: int
    latency_diff_ms: float | None  # mean: the shadow's time minus the served answer's


def percentile(buckets: Sequence[int], q: float) -> float | None:
    """The `q` quantile (ms) of a latency histogram, interpolated inside its bucket."""
    total = sum(buckets)
    if not total:
        return None
    rank = q * total
    seen = 0
    for i, count in enumerate(buckets):
        if count and seen + count >= rank:
            low = 0.0 if i == 0 else float(LATENCY_BUCKETS_MS[i - 1])
            high = float(LATENCY_BUCKETS_MS[min(i, len(LATENCY_BUCKETS_MS) - 1)])
            return low + (high - low) * (rank - seen) / count
        seen += count
    return float(LATENCY_BUCKETS_MS[-1])


def series(minutes: Sequence[EndpointMinute]) -> dict[str, Any]:
    """Chart data: for each served entity and version, [minute ms, value] points of the
    requests per second, the latency percentiles (ms) and the error rate (%)."""
    by_version: dict[str, list[EndpointMinute]] = {}
    for m in minutes:
        if m.requests:
            by_version.setdefault(f"{m.served_entity} v{m.served_version}", []).append(m)
    out: dict[str, Any] = {"rate": {}, "errors": {}, "latency": {}}
    for label, rows in sorted(by_version.items()):
        out["rate"][label] = [[m.minute, round(m.requests / 60, 3)] for m in rows]
        out["errors"][label] = [
            [m.minute, round(100 * (m.errors_4xx + m.errors_5xx) / m.requests, 2)] for m in rows
        ]
        for q in PERCENTILES:
            name = f"{label} p{round(q * 100)}"
            out["latency"][name] = [[m.minute, percentile(m.latency_buckets, q)] for m in rows]
    return out


def verdicts(minutes: Sequence[EndpointMinute]) -> list[ShadowVerdict]:
    """Each shadow entity's verdict over `minutes`."""
    totals: dict[tuple[str, str], list[float]] = {}
    for m in minutes:
        if m.shadow_requests:
            t = totals.setdefault((m.served_entity, m.served_version), [0, 0, 0, 0.0])
            t[0] += m.shadow_requests
            t[1] += m.shadow_agreed
            t[2] += m.shadow_errors
            t[3] += m.shadow_latency_diff_sum_ms
    out = []
    for (entity, version), (requests, agreed, errors, diff) in sorted(totals.items()):
        answered = requests - errors
        out.append(
            ShadowVerdict(
                served_entity=entity,
                served_version=version,
                requests=int(requests),
                agreement=agreed / answered if answered else None,
                errors=int(errors),
                latency_diff_ms=diff / requests if requests else None,
            )
        )
    return out


def summary(minutes: Sequence[EndpointMinute]) -> dict[str, Any]:
    """Totals over `minutes`: requests, errors, dropped captures, overall percentiles."""
    requests = sum(m.requests for m in minutes)
    errors = sum(m.errors_4xx + m.errors_5xx for m in minutes)
    buckets = [0] * (len(LATENCY_BUCKETS_MS) + 1)
    for m in minutes:
        for i, count in enumerate(m.latency_buckets):
            buckets[i] += count
    return {
        "requests": requests,
        "errors": errors,
        "error_rate": 100 * errors / requests if requests else None,
        "dropped": sum(m.capture_dropped for m in minutes),
        "p50": percentile(buckets, 0.5),
        "p99": percentile(buckets, 0.99),
    }
