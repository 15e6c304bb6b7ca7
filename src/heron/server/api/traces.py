"""Heron's trace search: one request answers a page of traces with their spans, in Heron's
compact JSON (`mlflow_json/traces_compact.py`). MLflow's client needs two (SearchTracesV3,
then batchGet) and proto JSON for the same page."""

from __future__ import annotations

from heron.mlflow_json import traces_compact as tc
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.traces import DEFAULT_SEARCH_TRACES, TraceService
from heron.web.routes import PolicyRoute


def routes(api: Endpoints, service: TraceService) -> list[PolicyRoute]:
    def search_traces(f: Fields) -> Json:
        max_results = f.int64("max_results")
        include_spans = f.boolean("include_spans")
        page = service.search_full_traces(
            f.strings("experiment_ids"),
            filter_string=f.string("filter"),
            order_by=f.strings("order_by"),
            max_results=DEFAULT_SEARCH_TRACES if max_results is None else max_results,
            page_token=f.string("page_token"),
            include_spans=True if include_spans is None else include_spans,
        )
        body: Json = {"traces": [tc.trace(t) for t in page]}
        if page.next_page_token:
            body["next_page_token"] = page.next_page_token
        return body

    # A GET: the request is one packet (a POST's body is a second write, and under load a
    # second wake-up of the server before it can start).
    read = requires("read", "experiment", "experiment_ids")
    return [api.get("/traces/search", search_traces, read)]
