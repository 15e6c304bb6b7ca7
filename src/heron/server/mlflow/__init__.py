"""MLflow REST v2 routes, served under /api/2.0/mlflow and the UI's /ajax-api/2.0/mlflow."""

from __future__ import annotations

from starlette.routing import BaseRoute, Mount

from heron.server.mlflow import datasets, experiments, metrics, runs
from heron.server.wire import Endpoints
from heron.services import ExperimentService, RunService


def mounts(
    api: Endpoints, experiment_service: ExperimentService, run_service: RunService
) -> list[BaseRoute]:
    """The v2 tracking routes under both prefixes, plus the UI's ajax-only routes."""
    shared: list[BaseRoute] = [
        *experiments.routes(api, experiment_service),
        *runs.routes(api, run_service),
        *metrics.routes(api, run_service),
    ]
    ajax_only: list[BaseRoute] = [
        *metrics.ajax_routes(api, run_service),
        *datasets.ajax_routes(api, run_service),
    ]
    return [
        Mount("/api/2.0/mlflow", routes=shared),
        Mount("/ajax-api/2.0/mlflow", routes=[*shared, *ajax_only]),
    ]


__all__ = ["mounts"]
