"""`GET /metrics`: the serving endpoints' requests in Prometheus' format (prometheus-client),
counted by the invocation route of this process (of every process, with several workers:
`heron server --workers N` gives them a PROMETHEUS_MULTIPROC_DIR)."""

from __future__ import annotations

import os
import re
from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from heron.services.access import requires
from heron.web.routes import PolicyRoute

_ENDPOINT_LABEL = re.compile(rb'[{,]endpoint="((?:[^"\\]|\\.)*)"')
_BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


class EndpointMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        labels = ["endpoint", "served_entity", "served_version"]
        self.requests = Counter(
            "heron_endpoint_requests", "Serving endpoint requests answered, by HTTP status.",
            [*labels, "status"], registry=self.registry,
        )  # fmt: skip
        self.latency = Histogram(
            "heron_endpoint_request_duration_seconds",
            "Time from a request's body read to its answer, the hop to a replica included.",
            labels, buckets=_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self.shadow = Counter(
            "heron_endpoint_shadow_requests", "Shadow requests, by verdict (agreed, differed, "
            "error).", [*labels, "verdict"], registry=self.registry,
        )  # fmt: skip
        self.dropped = Counter(
            "heron_endpoint_capture_dropped", "Captured requests dropped: the queue was full.",
            ["endpoint"], registry=self.registry,
        )  # fmt: skip

    def route(self, endpoint_names: Callable[[], list[str]]) -> PolicyRoute:
        """`GET /metrics`, showing the endpoints `endpoint_names` answers for the caller (every
        endpoint without --auth; those the caller may see with it)."""

        async def metrics(request: Request) -> Response:
            names = set(await run_in_threadpool(endpoint_names))
            return Response(visible_only(self.exposition(), names), media_type=CONTENT_TYPE_LATEST)

        return PolicyRoute(
            "/metrics", metrics, methods=["GET"], policy=requires("read", "serving_endpoint")
        )

    def exposition(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import multiprocess

            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)


def visible_only(exposition: bytes, names: set[str]) -> bytes:
    """The samples of `exposition` whose `endpoint` label is one of `names` (HELP and TYPE
    lines stay)."""
    kept = []
    for line in exposition.splitlines(keepends=True):
        found = _ENDPOINT_LABEL.search(line)
        if found is None or _unescape(found.group(1)) in names:
            kept.append(line)
    return b"".join(kept)


def _unescape(label: bytes) -> str:
    text = label.decode()
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)
