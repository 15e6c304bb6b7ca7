"""MLflow REST v3: registered scorers under /api/3.0/mlflow/scorers (what a scorer's
`register`, `start`, `update`, `stop` and `mlflow.genai.scorers.list_scorers/get_scorer/
delete_scorer` call). MLflow compat: a Scorer's experiment_id is an int32 on the wire."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.entities.evaluation import OnlineScoringConfig, ScorerVersion
from heron.server.routing import MLFLOW_V3, under_prefixes
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.scorers import ScorerService


def scorer_json(s: ScorerVersion) -> Json:
    return {
        "experiment_id": int(s.experiment_id),
        "scorer_name": s.name,
        "scorer_version": s.version,
        "serialized_scorer": s.serialized_scorer,
        "creation_time": s.creation_time,
        "scorer_id": s.scorer_id,
    }


def config_json(c: OnlineScoringConfig) -> Json:
    out: Json = {
        "online_scoring_config_id": c.config_id,
        "scorer_id": c.scorer_id,
        "sample_rate": c.sample_rate,
        "experiment_id": c.experiment_id,
    }
    if c.filter_string:
        out["filter_string"] = c.filter_string
    return out


def _version(f: Fields) -> int | None:
    version = f.int64("version")
    return None if version is None else version


def routes(api: Endpoints, service: ScorerService) -> list[BaseRoute]:
    def register(f: Fields) -> Json:
        s = service.register_scorer(
            f.required_string("experiment_id"),
            f.required_string("name"),
            f.required_string("serialized_scorer"),
        )
        return {
            "version": s.version,
            "scorer_id": s.scorer_id,
            "experiment_id": s.experiment_id,
            "name": s.name,
            "serialized_scorer": s.serialized_scorer,
            "creation_time": s.creation_time,
        }

    def list_scorers(f: Fields) -> Json:
        experiments = f.strings("experiment_ids") or [f.required_string("experiment_id")]
        found = service.list_scorers(experiments)
        return {"scorers": [scorer_json(s) for s in found]} if found else {}

    def versions(f: Fields) -> Json:
        found = service.scorer_versions(
            f.required_string("experiment_id"), f.required_string("name")
        )
        return {"scorers": [scorer_json(s) for s in found]} if found else {}

    def get(f: Fields) -> Json:
        s = service.get_scorer(
            f.required_string("experiment_id"), f.required_string("name"), _version(f)
        )
        return {"scorer": scorer_json(s)}

    def delete(f: Fields) -> Json:
        service.delete_scorer(
            f.required_string("experiment_id"), f.required_string("name"), _version(f)
        )
        return {}

    def online_config(f: Fields) -> Json:
        rate = f.double("sample_rate", required=True)
        assert rate is not None  # noqa: S101 (required)
        config = service.set_online_config(
            f.required_string("experiment_id"),
            f.required_string("name"),
            rate,
            f.string("filter_string") or None,
        )
        return {"config": config_json(config)}

    def online_configs(f: Fields) -> Json:
        return {
            "configs": [config_json(c) for c in service.online_configs(f.strings("scorer_ids"))]
        }

    reads = requires("read", "experiment", "experiment_id")
    updates = requires("update", "experiment", "experiment_id")
    shared = [
        api.post("/scorers/register", register, updates),
        api.get("/scorers/list", list_scorers, reads),
        api.get("/scorers/versions", versions, reads),
        api.get("/scorers/get", get, reads),
        api.route("DELETE", "/scorers/delete", delete, updates),
        api.route("PUT", "/scorers/online-config", online_config, updates),
        api.get("/scorers/online-configs", online_configs, requires("read", "experiment")),
    ]
    return under_prefixes(MLFLOW_V3, shared)
