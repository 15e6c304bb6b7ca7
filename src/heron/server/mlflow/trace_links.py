"""MLflow REST: traces linked after the fact, to a run (POST /traces/link-to-run) and to the
prompt versions they used (POST /traces/link-prompts), under /api/2.0/mlflow and the UI's
/ajax-api/2.0/mlflow."""

from __future__ import annotations

from starlette.routing import BaseRoute

from heron.server.routing import MLFLOW_V2, under_prefixes
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.trace_links import TraceLinkService


def routes(api: Endpoints, service: TraceLinkService) -> list[BaseRoute]:
    def link_traces_to_run(f: Fields) -> Json:
        service.link_traces_to_run(f.strings("trace_ids"), f.required_string("run_id"))
        return {}

    def link_prompts_to_trace(f: Fields) -> Json:
        versions = [
            (v.required_string("name"), v.required_string("version"))
            for v in f.messages("prompt_versions")
        ]
        service.link_prompts_to_trace(f.required_string("trace_id"), versions)
        return {}

    linked = [
        api.post("/traces/link-to-run", link_traces_to_run, requires("update", "run", "run_id")),
        api.post(
            "/traces/link-prompts", link_prompts_to_trace, requires("update", "trace", "trace_id")
        ),
    ]
    return under_prefixes(MLFLOW_V2, linked)
