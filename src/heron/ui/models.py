"""Model pages: the registry (models, versions, activity) and logged models."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.ui.rendering import Renderer
from heron.ui.services import UIServices


def routes(renderer: Renderer, services: UIServices) -> list[BaseRoute]:
    return []
