"""MLflow REST: the UI's dataset summaries of an experiment (ajax only)."""

from __future__ import annotations

from starlette.routing import Route

from heron.server.wire import Endpoints, Fields, Json
from heron.services import RunService

MAX_EXPERIMENTS = 20


def ajax_routes(api: Endpoints, service: RunService) -> list[Route]:
    def search_datasets(f: Fields) -> Json:
        # Not implemented yet: dataset summaries need a store query (distinct name, digest and
        # context per experiment). Until then the UI gets an empty answer ("no datasets").
        f.strings("experiment_ids")
        return {}

    return [api.post("/experiments/search-datasets", search_datasets)]
