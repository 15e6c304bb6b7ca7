"""Heron's routes for the monitoring worker: the scorers that sample new traces, and a scorer
by id (MLflow's API names scorers by experiment and name only)."""

from __future__ import annotations

from heron.server.mlflow.scorers import config_json, scorer_json
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.scorers import ScorerService
from heron.web.routes import PolicyRoute


def routes(api: Endpoints, service: ScorerService) -> list[PolicyRoute]:
    def active_configs(f: Fields) -> Json:
        return {"configs": [config_json(c) for c in service.active_configs()]}

    def by_id(f: Fields) -> Json:
        return {"scorer": scorer_json(service.scorer_by_id(f.required_string("scorer_id")))}

    reads = requires("read", "experiment")
    return [
        api.get("/scorers/active-configs", active_configs, reads),
        api.get("/scorers/by-id", by_id, reads),
    ]
