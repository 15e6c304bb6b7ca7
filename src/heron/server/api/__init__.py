"""Heron's own REST routes, served under /api/2.0/heron (and /ajax-api/2.0/heron for the UI)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.server.api import registry
from heron.server.routing import under_prefixes
from heron.server.wire import Endpoints
from heron.services.registry import RegistryService

API = "/api/2.0/heron"
AJAX = "/ajax-api/2.0/heron"


def routes(api: Endpoints, registry_service: RegistryService) -> list[BaseRoute]:
    return under_prefixes((API, AJAX), registry.routes(api, registry_service))


__all__ = ["routes"]
