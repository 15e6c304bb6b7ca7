"""Heron's own REST routes, served under /api/2.0/heron (and /ajax-api/2.0/heron for the UI)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.server.api import (
    dataset_versions,
    deployment_jobs,
    evaluations,
    inference,
    judge_cache,
    namespaces,
    registry,
    scorers,
    traces,
)
from heron.server.routing import under_prefixes
from heron.server.wire import Endpoints
from heron.services.build import Services

API = "/api/2.0/heron"
AJAX = "/ajax-api/2.0/heron"


def routes(api: Endpoints, services: Services) -> list[BaseRoute]:
    own = [
        *registry.routes(api, services.registry, services.webhooks),
        *namespaces.routes(api, services.namespaces),
        *traces.routes(api, services.traces),
        *judge_cache.routes(api, services.judge_cache, services.judge_limits),
        *dataset_versions.routes(api, services.datasets),
        *evaluations.routes(api, services.judge_agreement, services.thresholds),
        *scorers.routes(api, services.scorers),
        *inference.routes(api, services.inference, services.drift),
        *deployment_jobs.job_routes(api, services.deployment_jobs),
        *deployment_jobs.run_routes(api, services.job_runs),
    ]
    return under_prefixes((API, AJAX), own)


__all__ = ["routes"]
