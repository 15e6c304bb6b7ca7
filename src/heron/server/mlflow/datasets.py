"""MLflow REST: the UI's dataset summaries of an experiment (ajax only)."""

from __future__ import annotations

from heron.server.wire import Endpoints, Fields, Json
from heron.services import RunService
from heron.services.access import requires
from heron.web.routes import PolicyRoute


def ajax_routes(api: Endpoints, service: RunService) -> list[PolicyRoute]:
    def search_datasets(f: Fields) -> Json:
        summaries = service.search_dataset_summaries(f.strings("experiment_ids"))
        if not summaries:
            return {}
        return {
            "dataset_summaries": [
                {"experiment_id": s.experiment_id, "name": s.name, "digest": s.digest}
                | ({"context": s.context} if s.context else {})
                for s in summaries
            ]
        }

    read = requires("read", "experiment", "experiment_ids")
    return [api.post("/experiments/search-datasets", search_datasets, read)]
