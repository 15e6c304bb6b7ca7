"""MLflow REST v2 routes, served under /api/2.0/mlflow and the UI's /ajax-api/2.0/mlflow."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.server.mlflow import (
    artifacts,
    datasets,
    experiments,
    logged_models,
    metrics,
    registry,
    registry_versions,
    registry_webhooks,
    runs,
)
from heron.server.routing import under_prefixes
from heron.server.wire import Endpoints
from heron.services.build import Services

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


def routes(api: Endpoints, services: Services) -> list[BaseRoute]:
    """The v2 tracking routes under both prefixes, the UI's ajax-only routes, and the
    artifact proxy."""
    # Listing may wait on S3: never on the event loop.
    threaded = Endpoints(api.max_request_bytes, inline=False)
    shared = [
        *artifacts.run_routes(threaded, services.runs, services.artifacts),
        *experiments.routes(api, services.experiments),
        *runs.routes(api, services.runs),
        *metrics.routes(api, services.runs),
        *logged_models.routes(api, services.logged_models, services.artifacts),
        *registry.routes(api, services.registry),
        *registry_versions.routes(api, services.registry),
        *registry_webhooks.routes(services.webhooks, api.max_request_bytes),
    ]
    ajax_only = [
        *metrics.ajax_routes(api, services.runs),
        *datasets.ajax_routes(api, services.runs),
        *logged_models.ajax_routes(services.logged_models, services.artifacts),
    ]
    return [
        *under_prefixes((API, AJAX), shared),
        *under_prefixes((AJAX,), ajax_only),
        *artifacts.proxy_routes(services.artifacts),
    ]


__all__ = ["routes"]
