"""The run page: overview, tags, description, params, metrics, datasets, artifacts, models."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.ui.rendering import Renderer
from heron.ui.services import UIServices


def routes(renderer: Renderer, services: UIServices) -> list[BaseRoute]:
    return []
