"""create_app(settings): the whole server, the API and the UI over one bundle of services; the
one module that imports both the server and the UI."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from heron import ui
from heron.errors import HeronError
from heron.server import errors, policies, routes, wire
from heron.server.mlflow.workspaces import WorkspaceMiddleware
from heron.server.security_layer import hardening, security_layer, workspace_gate
from heron.server.wire import Endpoints
from heron.services import Authorizer
from heron.services.build import build_services
from heron.services.change_watch import ChangeWatch
from heron.settings import Settings
from heron.store.crypto.fields import field_cipher
from heron.store.sql import open_sql_stores
from heron.ui.security import routes as security_pages


def create_app(settings: Settings, authorizer: Authorizer | None = None) -> Starlette:
    """The whole server for `settings`, asking `authorizer` (default `AllowAll`: single-user
    mode) who may do what. The stores close when the app shuts down."""
    stores = open_sql_stores(
        settings.backend_store_uri,
        default_artifact_root=settings.default_artifact_root,
        sqlite_synchronous=settings.sqlite_synchronous,
        fields=field_cipher(
            settings.encryption_key,
            cache_s=settings.key_cache_s,
            sensitive_keys=settings.sensitive_keys,
        ),
    )
    try:
        api = Endpoints(settings.max_request_bytes, inline=stores.answers_at_once)
        security = security_layer(settings, stores.security, api)
        # Every request asks it whether a workspace was deleted (by any process) since.
        changes = ChangeWatch(stores.workspaces.version)
        gate = workspace_gate(
            settings, stores.workspaces, stores.security.owners, security.services, changes
        )
        services = build_services(stores, security.authorizer(authorizer, gate), settings)
    except BaseException:
        stores.close()
        raise
    pages = (
        []
        if security.services is None
        else security_pages(security.services, security.oidc, settings.public_url)
    )

    proxy = routes.invocation_proxy(services, settings)
    workspaces = Middleware(WorkspaceMiddleware, service=services.workspaces, changes=changes)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services.start()
        try:
            yield
        finally:
            security.close()
            await proxy.aclose()
            services.close()

    return Starlette(
        # Every route declares its policy, or the app does not start (deny by default).
        routes=policies.guard(
            # The invocation routes first: every endpoint request is matched in one step
            # rather than after the ~70 routes of the API (120 us a request).
            [
                *proxy.routes(),
                *routes.routes(services, settings),
                *security.routes,
                *pages,
                *ui.routes(services),
            ],
            services.authorizer,
        ),
        middleware=[
            hardening(settings),
            Middleware(errors.UnexpectedErrors),
            Middleware(wire.RefuseNul),
            *security.middleware,
            *([workspaces] if settings.enable_workspaces else []),
        ],
        exception_handlers={HeronError: errors.heron_error, HTTPException: errors.http_error},
        lifespan=lifespan,
    )
