"""An experiment's overview (the GenAI view's first tab): over a window and grain, trace
volume, error rate, latency percentiles, tokens, cost, each feedback or judge score and the
tool calls, narrowed by the filters; every chart point links to the traces behind it."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities import LoggedModel
from heron.entities.trace_analytics import TOOL_SPAN_TYPE, Overview
from heron.errors import InvalidParameter
from heron.services.access import requires
from heron.services.build import Services
from heron.ui import genai_query as gq
from heron.ui.rendering import PageResult, Renderer
from heron.ui.runs_table import literal, quoted

MAX_VERSIONS = 100  # LoggedModels offered in the app version filter


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    def overview_page(request: Request) -> PageResult:
        experiment = services.experiments.get_experiment(request.path_params["experiment_id"])
        eid = experiment.experiment_id
        query = gq.GenAIQuery.from_query(request.query_params)
        found: Overview | None = None
        error = filter_text = None
        grain = 0
        try:
            start, end = query.window()
            filter_text = query.filter_string()
            grain = query.grain_ms(start, end)
            found = services.trace_analytics.overview(
                eid,
                start_ms=start,
                end_ms=end,
                grain_ms=grain,
                filter_string=filter_text or None,
            )
        except InvalidParameter as exc:
            error = exc.message
        return "overview.html", {
            "experiment": experiment,
            "query": query,
            "found": found,
            "error": error,
            "filter_string": filter_text or "",
            "grain_label": gq.grain_label(grain),
            "chart_data": chart_data(eid, filter_text or "", found) if found else None,
            "links": Links(eid, filter_text or "", found) if found else None,
            "versions": versions_of(services, eid),
            "ranges": gq.RANGE_LABELS,
            "grains": gq.GRAIN_LABELS,
            "span_types": gq.SPAN_TYPES,
            "nav": "experiments",
            "tab": "overview",
        }

    reads = requires("read", "experiment", "experiment_id")
    return [renderer.get("/experiments/{experiment_id}/overview", overview_page, reads)]


def versions_of(services: Services, experiment_id: str) -> list[LoggedModel]:
    """The experiment's LoggedModels (its app versions), newest first."""
    return list(
        services.logged_models.search_logged_models([experiment_id], max_results=MAX_VERSIONS)
    )


def score_clause(name: str) -> str:
    """Traces with a value for the feedback `name` (any value: LIKE '%')."""
    return f"feedback.{quoted(name)} LIKE '%'"


def tool_clause(name: str) -> str:
    return f"span.name = {literal(name)} AND span.type = {literal(TOOL_SPAN_TYPE)}"


class Links:
    """Links from the page's tables to the traces behind each figure."""

    def __init__(self, experiment_id: str, filter_string: str, found: Overview) -> None:
        self._eid = experiment_id
        self._filter = filter_string
        self._window = (found.start_ms, found.end_ms)

    def traces(self, *extra: str, start: int | None = None, end: int | None = None) -> str:
        lo = self._window[0] if start is None else start
        hi = self._window[1] if end is None else end
        return gq.traces_link(self._eid, gq.in_range(self._filter, lo, hi, *extra))

    def errors(self, start: int | None = None, end: int | None = None) -> str:
        return self.traces("trace.status = 'ERROR'", start=start, end=end)

    def slow(self, at_least_ms: float | None) -> str:
        """The window's traces at or above a latency, slowest first."""
        extra = () if at_least_ms is None else (f"execution_time_ms >= {int(at_least_ms)}",)
        where = gq.in_range(self._filter, *self._window, *extra)
        return gq.traces_link(self._eid, where, sort="duration", dir="desc")

    def score(self, name: str) -> str:
        return self.traces(score_clause(name))

    def tool(self, name: str, errors: bool = False) -> str:
        extra = " AND span.status = 'ERROR'" if errors else ""
        return self.traces(tool_clause(name) + extra)


def chart_data(experiment_id: str, filter_string: str, found: Overview) -> dict[str, Any]:
    """What overview.js draws, and what each point links to: the traces tab with the filter,
    the point's time range and the clause of its series."""
    buckets = found.buckets
    return {
        "traces_url": gq.traces_link(experiment_id, "").split("?")[0],
        "filter": filter_string,
        "buckets": [[b.start_ms, b.end_ms] for b in buckets],
        "traces": [b.traces for b in buckets],
        "errors": [b.errors for b in buckets],
        "p50": [b.latency.p50 for b in buckets],
        "p90": [b.latency.p90 for b in buckets],
        "p99": [b.latency.p99 for b in buckets],
        "input_tokens": [b.input_tokens for b in buckets],
        "output_tokens": [b.output_tokens for b in buckets],
        "cost": [b.cost for b in buckets],
        "scores": [
            {
                "name": s.name,
                "clause": score_clause(s.name),
                "points": [[p.start_ms, p.end_ms, p.count, p.mean] for p in s.points],
            }
            for s in found.scores
        ],
        "tools": [
            {
                "name": t.name,
                "clause": tool_clause(t.name),
                "points": [[p.start_ms, p.end_ms, p.calls, p.errors] for p in t.points],
            }
            for t in found.tools
        ],
    }
