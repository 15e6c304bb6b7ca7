"""The web UI's routes: server-rendered pages over the same services as the REST API."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute
from starlette.staticfiles import StaticFiles

from heron.services.access import PUBLIC
from heron.services.build import Services
from heron.ui import compare, experiments, model_forms, models, runs, trace_pages
from heron.ui.rendering import Renderer, environment
from heron.web.routes import PolicyMount

STATIC = Path(__file__).parent / "static"


def routes(services: Services) -> list[BaseRoute]:
    """Every UI page and form action, and /static. Mount them after the API routes."""
    renderer = Renderer(environment())
    return [
        *experiments.routes(renderer, services.experiments, services.runs),
        *runs.routes(renderer, services),
        *compare.routes(renderer, services),
        *models.routes(renderer, services),
        *model_forms.routes(renderer, services.registry),
        *trace_pages.routes(renderer, services),
        PolicyMount("/static", StaticFiles(directory=STATIC), policy=PUBLIC, name="static"),
    ]
