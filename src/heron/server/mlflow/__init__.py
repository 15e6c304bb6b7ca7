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
from heron.services import ExperimentService, RunService
from heron.services.logged_models import LoggedModelService
from heron.services.registry import RegistryService
from heron.services.registry_webhooks import WebhookService
from heron.store.artifacts import ArtifactRepository

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


def routes(
    api: Endpoints,
    experiment_service: ExperimentService,
    run_service: RunService,
    artifact_repository: ArtifactRepository | None = None,
    logged_model_service: LoggedModelService | None = None,
    registry_service: RegistryService | None = None,
    webhook_service: WebhookService | None = None,
) -> list[BaseRoute]:
    """The v2 tracking routes under both prefixes, plus the UI's ajax-only routes, and the
    artifact proxy (`artifact_repository`; None when the server does not serve artifacts)."""
    # Listing may wait on S3: never on the event loop.
    threaded = Endpoints(api.max_request_bytes, inline=False)
    shared = [
        *artifacts.run_routes(threaded, run_service, artifact_repository),
        *experiments.routes(api, experiment_service),
        *runs.routes(api, run_service),
        *metrics.routes(api, run_service),
    ]
    if logged_model_service is not None:
        shared += logged_models.routes(api, logged_model_service, artifact_repository)
    if registry_service is not None:
        shared += registry.routes(api, registry_service)
        shared += registry_versions.routes(api, registry_service)
    if webhook_service is not None:
        shared += registry_webhooks.routes(webhook_service, api.max_request_bytes)
    ajax_only = [
        *metrics.ajax_routes(api, run_service),
        *datasets.ajax_routes(api, run_service),
    ]
    if logged_model_service is not None:
        ajax_only += logged_models.ajax_routes(logged_model_service, artifact_repository)
    return [
        *under_prefixes((API, AJAX), shared),
        *under_prefixes((AJAX,), ajax_only),
        *artifacts.proxy_routes(artifact_repository),
    ]


__all__ = ["routes"]
