"""The scoring server's Prometheus metrics (prometheus-client), served at `/metrics`.

With several worker processes, `PROMETHEUS_MULTIPROC_DIR` (set by `heron models serve`
before the workers start) makes every process write its samples there, and `/metrics`
adds them up, whichever worker answers.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

_LATENCY_BUCKETS = (
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
_ROW_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384)

CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServingMetrics:
    """Request counts and latencies, batch sizes and queue waits of one scoring server."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "heron_serving_requests", "Scoring requests answered, by HTTP status.", ["status"],
            registry=r,
        )  # fmt: skip
        self.latency = Histogram(
            "heron_serving_request_duration_seconds",
            "Time from a scoring request's body read to its answer.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.batch_rows = Histogram(
            "heron_serving_batch_rows", "Rows scored in one predict call.",
            buckets=_ROW_BUCKETS, registry=r,
        )  # fmt: skip
        self.batch_requests = Histogram(
            "heron_serving_batch_requests", "Requests scored in one predict call.",
            buckets=_ROW_BUCKETS, registry=r,
        )  # fmt: skip
        self.queue_wait = Histogram(
            "heron_serving_queue_wait_seconds",
            "Time a request waited in the queue before its batch started.",
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.predict = Histogram(
            "heron_serving_predict_duration_seconds", "Time of one predict call (one batch).",
            buckets=_LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.rejected = Counter(
            "heron_serving_rejected",
            "Requests refused with 429 because the latency bound could not be met.",
            registry=r,
        )

    def observe_batch(self, rows: int, seconds: float, waits: Sequence[float]) -> None:
        self.batch_rows.observe(rows)
        self.batch_requests.observe(len(waits))
        self.predict.observe(seconds)
        for wait in waits:
            self.queue_wait.observe(wait)

    def observe_request(self, status: int, seconds: float) -> None:
        self.requests.labels(str(status)).inc()
        self.latency.observe(seconds)

    def exposition(self) -> bytes:
        """The text `/metrics` answers (all worker processes' samples when there are several)."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)
