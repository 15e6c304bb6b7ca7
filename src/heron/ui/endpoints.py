"""Serving endpoint pages: the list, an endpoint with its configuration, replicas, charts
(request rate, latency percentiles, error rate per version), shadow verdicts and recent
inference records, and one inference record with its trace."""

from __future__ import annotations

import time

import orjson
from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.services.access import requires
from heron.services.build import Services
from heron.ui import endpoint_stats
from heron.ui.rendering import PageResult, Renderer

WINDOW_MS = 60 * 60_000  # the charts' last hour
RECENT_RECORDS = 25


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    endpoints, inference = services.endpoints, services.inference

    def endpoint_list(request: Request) -> PageResult:
        return "endpoints.html", {"endpoints": endpoints.list_endpoints(), "nav": "endpoints"}

    def endpoint_page(request: Request) -> PageResult:
        name = request.path_params["name"]
        status = endpoints.get_endpoint(name)
        now = int(time.time() * 1000)
        minutes = inference.minutes(name, since=now - WINDOW_MS)
        series = {**endpoint_stats.series(minutes), "window": [now - WINDOW_MS, now]}
        records = inference.search_records(name, max_results=RECENT_RECORDS)
        drift = services.drift.reports(name, limit=1)
        return "endpoint.html", {
            "status": status,
            "endpoint": status.endpoint,
            "config": status.served_config or status.endpoint.config,
            "series": orjson.dumps(series).decode(),
            "summary": endpoint_stats.summary(minutes),
            "verdicts": endpoint_stats.verdicts(minutes),
            "records": list(records),
            "drift": drift[0] if drift else None,
            "nav": "endpoints",
        }

    def record_page(request: Request) -> PageResult:
        record = inference.get_record(request.path_params["request_id"])
        return "inference_record.html", {
            "record": record,
            "chunks": orjson.loads(record.response_chunks) if record.response_chunks else None,
            "nav": "endpoints",
        }

    reads = requires("read", "serving_endpoint", "name")
    return [
        renderer.get("/endpoints", endpoint_list, requires("read", "serving_endpoint")),
        renderer.get("/endpoints/{name}", endpoint_page, reads),
        renderer.get("/endpoints/{name}/records/{request_id}", record_page, reads),
    ]
