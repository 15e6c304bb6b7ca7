"""create_app(settings): builds the stores, the services and the ASGI app that serves them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from heron import ui
from heron.errors import HeronError
from heron.server import api as heron_api
from heron.server import errors, mlflow, otlp, system, wire
from heron.server.api import traces as heron_traces
from heron.server.mlflow import traces as mlflow_traces
from heron.server.routing import under_prefixes
from heron.server.security_layer import hardening, security_layer
from heron.server.wire import Endpoints
from heron.services import AllowAll, ExperimentService, RunService
from heron.services.logged_models import LoggedModelService
from heron.services.registry import RegistryService
from heron.services.registry_namespaces import NamespaceService
from heron.services.registry_webhooks import WebhookDispatcher, WebhookService
from heron.services.traces import TraceService
from heron.settings import Settings
from heron.store.artifacts import open_artifact_repository, supports_multipart
from heron.store.sql import open_sql_stores


def create_app(settings: Settings) -> Starlette:
    """The whole server for `settings`. The stores close when the app shuts down."""
    stores = open_sql_stores(
        settings.backend_store_uri,
        default_artifact_root=settings.default_artifact_root,
        sqlite_synchronous=settings.sqlite_synchronous,
    )
    api = Endpoints(settings.max_request_bytes, inline=stores.database.answers_at_once)
    security = security_layer(settings, stores.security, api)
    authorizer = security.authorizer(AllowAll())
    experiment_service = ExperimentService(
        stores.experiments, authorizer, artifact_roots=settings.artifact_roots
    )
    run_service = RunService(stores.runs, authorizer)
    logged_model_service = LoggedModelService(stores.logged_models, stores.experiments, authorizer)
    registry_service = RegistryService(
        stores.registered_models,
        stores.model_versions,
        stores.model_sources,
        authorizer,
        artifact_roots=settings.artifact_roots,
        runs=stores.runs,
        experiments=stores.experiments,
        namespaces=stores.namespaces,
    )
    namespace_service = NamespaceService(stores.namespaces, authorizer)
    dispatcher = WebhookDispatcher(stores.webhooks, settings.webhook_allowed_hosts)
    webhook_service = WebhookService(stores.webhooks, dispatcher, authorizer)
    artifact_repository = (
        open_artifact_repository(settings.artifacts_destination)
        if settings.serve_artifacts
        else None
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        dispatcher.start()  # works off the queued webhook deliveries
        try:
            yield
        finally:
            security.close()
            dispatcher.close()
            trace_service.close()
            stores.close()

    trace_service = TraceService(
        stores.traces,
        stores.assessments,
        authorizer,
        max_payload_bytes=settings.trace_max_payload_bytes,
    )
    trace_routes = [
        *mlflow_traces.routes(api, trace_service),
        *otlp.routes(trace_service, max_request_bytes=api.max_request_bytes, inline=api.inline),
        *under_prefixes((heron_api.API, heron_api.AJAX), heron_traces.routes(api, trace_service)),
    ]
    return Starlette(
        routes=[
            *mlflow.routes(
                api,
                experiment_service,
                run_service,
                artifact_repository,
                logged_model_service=logged_model_service,
                registry_service=registry_service,
                webhook_service=webhook_service,
            ),
            *trace_routes,
            *security.routes,
            *heron_api.routes(api, registry_service, namespace_service, webhook_service),
            *system.routes(
                multipart_uploads=artifact_repository is not None
                and supports_multipart(artifact_repository)
            ),
            *ui.routes(
                ui.UIServices(
                    experiments=experiment_service,
                    runs=run_service,
                    logged_models=logged_model_service,
                    registry=registry_service,
                    traces=trace_service,
                    artifacts=artifact_repository,
                )
            ),
        ],
        middleware=[
            hardening(settings),
            Middleware(errors.UnexpectedErrors),
            Middleware(wire.RefuseNul),
            *security.middleware,
        ],
        exception_handlers={HeronError: errors.heron_error, HTTPException: errors.http_error},
        lifespan=lifespan,
    )
