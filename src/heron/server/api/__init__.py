"""Heron's own REST routes, served under /api/2.0/heron (and /ajax-api/2.0/heron for the UI)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.server.api import namespaces, registry
from heron.server.routing import under_prefixes
from heron.server.wire import Endpoints
from heron.services.registry import RegistryService
from heron.services.registry_namespaces import NamespaceService
from heron.services.registry_webhooks import WebhookService

API = "/api/2.0/heron"
AJAX = "/ajax-api/2.0/heron"


def routes(
    api: Endpoints,
    registry_service: RegistryService,
    namespace_service: NamespaceService,
    webhook_service: WebhookService,
) -> list[BaseRoute]:
    own = [
        *registry.routes(api, registry_service, webhook_service),
        *namespaces.routes(api, namespace_service),
    ]
    return under_prefixes((API, AJAX), own)


__all__ = ["routes"]
