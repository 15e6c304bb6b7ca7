"""Sessions: an experiment's traces grouped into conversations by `mlflow.trace.session`. The
list (latest activity first, over the GenAI view's window and filters) and one session read
as a conversation: each turn's request and answer in order, its latency, tokens and feedback,
the session's own assessments (judges of the whole conversation), links into each trace."""

from __future__ import annotations

import urllib.parse

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities import Page, reserved
from heron.entities.trace_analytics import SessionSummary
from heron.errors import InvalidParameter
from heron.services.access import requires
from heron.services.build import Services
from heron.ui import conversation, paging, trace_view
from heron.ui import genai_query as gq
from heron.ui.overview import versions_of
from heron.ui.rendering import PageResult, Renderer
from heron.ui.runs_table import literal, quoted

SESSIONS_PER_PAGE = 50
TURNS_PER_PAGE = 100


def session_filter(session_id: str) -> str:
    return f"metadata.{quoted(reserved.TRACE_SESSION)} = {literal(session_id)}"


def session_href(experiment_id: str, session_id: str) -> str:
    eid, sid = (urllib.parse.quote(x, safe="") for x in (experiment_id, session_id))
    return f"/experiments/{eid}/sessions/{sid}"


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    def session_list(request: Request) -> PageResult:
        experiment = services.experiments.get_experiment(request.path_params["experiment_id"])
        eid = experiment.experiment_id
        query = gq.GenAIQuery.from_query(request.query_params)
        page: Page[SessionSummary] = Page([])
        error = filter_text = None
        try:
            start, end = query.window()
            filter_text = query.filter_string()
            page = services.trace_analytics.sessions(
                eid,
                start_ms=start,
                end_ms=end,
                filter_string=filter_text or None,
                max_results=SESSIONS_PER_PAGE,
                page_token=request.query_params.get("page") or None,
            )
        except InvalidParameter as exc:
            error = exc.message
        return "sessions.html", {
            "experiment": experiment,
            "query": query,
            "page": page,
            "pager": paging.pager(request, page.next_page_token),
            "error": error,
            "filter_string": filter_text or "",
            "session_href": session_href,
            "versions": versions_of(services, eid),
            "ranges": gq.RANGE_LABELS,
            "span_types": gq.SPAN_TYPES,
            "nav": "experiments",
            "tab": "sessions",
        }

    def session_page(request: Request) -> PageResult:
        experiment = services.experiments.get_experiment(request.path_params["experiment_id"])
        session_id = request.path_params["session_id"]
        found = services.traces.search_full_traces(
            [experiment.experiment_id],
            filter_string=session_filter(session_id),
            order_by=["timestamp_ms ASC"],
            max_results=TURNS_PER_PAGE,
            page_token=request.query_params.get("page") or None,
        )
        traces = list(found.items)
        return "session.html", {
            "experiment": experiment,
            "session_id": session_id,
            "turns": [conversation.turn(t) for t in traces],
            "session_assessments": conversation.session_assessments(traces),
            "pager": paging.pager(request, found.next_page_token),
            "traces_href": gq.traces_link(
                experiment.experiment_id, session_filter(session_id), sort="time", dir="asc"
            ),
            "value_text": trace_view.value_text,
            "nav": "experiments",
            "tab": "sessions",
        }

    reads = requires("read", "experiment", "experiment_id")
    return [
        renderer.get("/experiments/{experiment_id}/sessions", session_list, reads),
        renderer.get(
            "/experiments/{experiment_id}/sessions/{session_id:path}", session_page, reads
        ),
    ]
