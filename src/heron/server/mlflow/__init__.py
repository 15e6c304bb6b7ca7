"""MLflow REST v2 routes, served under /api/2.0/mlflow and the UI's /ajax-api/2.0/mlflow."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.server.mlflow import datasets, experiments, metrics, runs
from heron.server.routing import under_prefixes
from heron.server.wire import Endpoints
from heron.services import ExperimentService, RunService

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"


def routes(
    api: Endpoints, experiment_service: ExperimentService, run_service: RunService
) -> list[BaseRoute]:
    """The v2 tracking routes under both prefixes, plus the UI's ajax-only routes."""
    shared = [
        *experiments.routes(api, experiment_service),
        *runs.routes(api, run_service),
        *metrics.routes(api, run_service),
    ]
    ajax_only = [
        *metrics.ajax_routes(api, run_service),
        *datasets.ajax_routes(api, run_service),
    ]
    return [*under_prefixes((API, AJAX), shared), *under_prefixes((AJAX,), ajax_only)]


__all__ = ["routes"]
