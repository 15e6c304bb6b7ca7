"""MLflow REST: /logged-models/search, the part of MLflow 3's LoggedModel API clients need now.

Heron stores no LoggedModels yet (that is issue #3), so a search finds none: the answer is
true, not a placeholder. The MLflow client searches logged models before it resolves or lists
a run's artifacts (`runs:/<run_id>/<name>` may name a model), so this route lets those paths
fall through to the run's own artifacts as they do on a server with no models."""

from __future__ import annotations

from starlette.routing import Route

from heron.server.wire import Endpoints, Fields, Json
from heron.services import ExperimentService


def routes(api: Endpoints, experiments: ExperimentService) -> list[Route]:
    def search_logged_models(f: Fields) -> Json:
        for experiment_id in f.strings("experiment_ids"):
            experiments.get_experiment(experiment_id)  # NotFound, as in MLflow
        f.string("filter")
        f.string("page_token")
        return {}

    return [api.post("/logged-models/search", search_logged_models)]
