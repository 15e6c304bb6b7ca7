"""Every route of the API server: MLflow's REST API (v2 and v3), OTLP, Heron's own API and the
server's meta routes, over one bundle of services."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.server import api as heron_api
from heron.server import mlflow, otlp, serving_endpoints, system
from heron.server.invocations import InvocationProxy
from heron.server.mlflow import (
    evaluation_datasets,
    label_schemas,
    review_queues,
    scorers,
    trace_links,
    ui_files,
    workspaces,
)
from heron.server.mlflow import traces as mlflow_traces
from heron.server.wire import Endpoints
from heron.services.build import Services
from heron.settings import Settings


def routes(services: Services, settings: Settings) -> list[BaseRoute]:
    api = Endpoints(settings.max_request_bytes, inline=services.answers_at_once)
    return [
        *mlflow.routes(api, services),
        *mlflow_traces.routes(api, services.traces),
        *trace_links.routes(api, services.trace_links),
        *ui_files.routes(services),
        *evaluation_datasets.routes(api, services.datasets),
        *scorers.routes(api, services.scorers),
        *label_schemas.routes(api, services.label_schemas),
        *review_queues.routes(api, services.review_queues),
        *otlp.routes(services.traces, max_request_bytes=api.max_request_bytes, inline=api.inline),
        *heron_api.routes(api, services),
        *serving_endpoints.routes(api, services.endpoints),
        *workspaces.routes(api, services.workspaces, enabled=settings.enable_workspaces),
        *system.routes(
            multipart_uploads=services.artifacts.multipart_uploads,
            workspaces=settings.enable_workspaces,
        ),
    ]


def invocation_proxy(services: Services, settings: Settings) -> InvocationProxy:
    """The routes that hand serving-endpoint requests to the replicas (`proxy.routes()`);
    the app closes it (`await proxy.aclose()`) when it stops."""
    return InvocationProxy(
        services.endpoints, services.inference, max_request_bytes=settings.max_request_bytes
    )
