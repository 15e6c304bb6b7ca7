"""The web UI's routes: server-rendered pages over the same services as the REST API."""

from __future__ import annotations

import functools
from pathlib import Path

from starlette.routing import BaseRoute, Route
from starlette.staticfiles import StaticFiles

from heron.services.access import PUBLIC
from heron.services.build import Services
from heron.ui import (
    agent_versions,
    compare,
    datasets,
    deployment_jobs,
    endpoints,
    evaluations,
    experiment_charts,
    experiments,
    genai_nav,
    model_forms,
    models,
    overview,
    prompts,
    review,
    review_edits,
    review_forms,
    runs,
    sessions,
    trace_compare,
    trace_pages,
    workspaces,
)
from heron.ui.rendering import Renderer, environment
from heron.web.routes import PolicyMount

STATIC = Path(__file__).parent / "static"


def routes(services: Services) -> list[BaseRoute]:
    """Every UI page and form action, and /static. Mount them after the API routes."""
    renderer = Renderer(environment())
    pages = [
        *experiments.routes(renderer, services),
        *runs.routes(renderer, services),
        *compare.routes(renderer, services),
        *experiment_charts.routes(renderer, services),
        *models.routes(renderer, services),
        *deployment_jobs.routes(renderer, services.job_runs),
        *prompts.routes(renderer, services),
        *model_forms.routes(renderer, services.registry),
        *trace_compare.routes(renderer, services),  # /traces/compare before /traces/{id}
        *trace_pages.routes(renderer, services),
        *overview.routes(renderer, services),
        *sessions.routes(renderer, services),
        *agent_versions.routes(renderer, services),
        *endpoints.routes(renderer, services),
        *review.routes(renderer, services),
        *review_forms.routes(renderer, services),
        *review_edits.routes(renderer, services),
        *evaluations.routes(renderer, services),
        *workspaces.routes(renderer, services.workspaces),
        *datasets.routes(renderer, services),
    ]
    # An experiment's tabs show the pages that exist.
    paths = frozenset(r.path for r in pages if isinstance(r, Route))
    renderer.env.globals["experiment_nav"] = functools.partial(genai_nav.nav, paths)
    static = PolicyMount("/static", StaticFiles(directory=STATIC), policy=PUBLIC, name="static")
    return [*pages, static]
