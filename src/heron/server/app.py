"""create_app(settings): opens the stores, builds the services and the ASGI app that serves them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware

from heron import ui
from heron.errors import HeronError
from heron.server import errors, routes, wire
from heron.server.auth import IdentityMiddleware
from heron.services import AllowAll
from heron.services.build import build_services
from heron.settings import Settings
from heron.store.crypto.fields import field_cipher
from heron.store.sql import open_sql_stores


def create_app(settings: Settings) -> Starlette:
    """The whole server for `settings`. The stores close when the app shuts down."""
    stores = open_sql_stores(
        settings.backend_store_uri,
        default_artifact_root=settings.default_artifact_root,
        sqlite_synchronous=settings.sqlite_synchronous,
        fields=field_cipher(settings.encryption_key, cache_s=settings.key_cache_s),
    )
    try:
        services = build_services(stores, AllowAll(), settings)
    except BaseException:
        stores.close()
        raise

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services.start()
        try:
            yield
        finally:
            services.close()

    return Starlette(
        routes=[*routes.routes(services, settings), *ui.routes(services)],
        middleware=[
            Middleware(errors.UnexpectedErrors),
            Middleware(wire.RefuseNul),
            Middleware(IdentityMiddleware),
        ],
        exception_handlers={HeronError: errors.heron_error, HTTPException: errors.http_error},
        lifespan=lifespan,
    )
