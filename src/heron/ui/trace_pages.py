"""Trace pages: an experiment's traces (the Traces tab), one trace with its span tree,
timeline, the selected span's details and assessments, and the form that adds feedback."""

from __future__ import annotations

import urllib.parse

from starlette.requests import Request
from starlette.routing import BaseRoute, Route

from heron.entities.assessment import Assessment, AssessmentKind, AssessmentSource
from heron.entities.assessment import AssessmentSourceType as Source
from heron.errors import InvalidParameter
from heron.services.access import current_identity
from heron.ui import paging, trace_view, traces
from heron.ui.rendering import Form, PageResult, Renderer, field
from heron.ui.services import UIServices

DEFAULT_FEEDBACK_NAME = "user_feedback"
_THUMBS = {"up": True, "down": False}
MAX_RATIONALE = 5000


def routes(renderer: Renderer, services: UIServices) -> list[BaseRoute]:
    service = services.traces

    def trace_list(request: Request) -> PageResult:
        experiment = services.experiments.get_experiment(request.path_params["experiment_id"])
        filters = traces.TraceFilters.from_query(request.query_params)
        found = traces.load(service, experiment.experiment_id, filters)
        return "traces.html", {
            "experiment": experiment,
            "filters": filters,
            "found": found,
            "pager": paging.pager(request, found.next_page_token),
            "statuses": traces.STATUSES,
            "ranges": traces.RANGE_LABELS,
            "user_tags": traces.user_tags,
            "nav": "experiments",
            "tab": "traces",
        }

    def trace_page(request: Request) -> PageResult:
        trace = service.get_trace(request.path_params["trace_id"])
        experiment = services.experiments.get_experiment(trace.info.experiment_id)
        shown = trace_view.view(trace, request.query_params.get("span"))
        return "trace.html", {
            "trace": trace,
            "info": trace.info,
            "experiment": experiment,
            "shown": shown,
            "selected": shown.selected,
            "assessed": trace_view.assessments(trace, trace.info.assessments),
            "user_tags": traces.user_tags(trace.info),
            "pretty": trace_view.pretty,
            "attribute_text": trace_view.attribute_text,
            "errors_of": trace_view.errors,
            "ms": trace_view.ms,
            "value_text": trace_view.value_text,
            "default_feedback_name": DEFAULT_FEEDBACK_NAME,
            "nav": "experiments",
        }

    def add_feedback(request: Request, form: Form) -> str:
        """Thumbs up or down, with a rationale, from the person using the UI (a HUMAN
        source named by the request's identity), on the trace or the span it names."""
        trace_id = request.path_params["trace_id"]
        thumb = field(form, "value")
        if thumb not in _THUMBS:
            raise InvalidParameter("Feedback must be thumbs up or thumbs down")
        rationale = field(form, "rationale").strip()
        if len(rationale) > MAX_RATIONALE:
            raise InvalidParameter(f"The rationale is longer than {MAX_RATIONALE} characters")
        span_id = field(form, "span_id") or None
        service.create_assessment(
            Assessment(
                assessment_id="",
                trace_id=trace_id,
                name=field(form, "name").strip() or DEFAULT_FEEDBACK_NAME,
                kind=AssessmentKind.FEEDBACK,
                value=_THUMBS[thumb],
                source=AssessmentSource(
                    source_type=Source.HUMAN, source_id=current_identity().name
                ),
                span_id=span_id,
                rationale=rationale or None,
            )
        )
        shown = field(form, "selected") or span_id  # the span the page had selected
        query = f"?span={urllib.parse.quote(shown, safe='')}" if shown else ""
        return f"/traces/{urllib.parse.quote(trace_id, safe='')}{query}#assessments"

    return [
        Route("/experiments/{experiment_id}/traces", renderer.page(trace_list), methods=["GET"]),
        Route("/traces/{trace_id}", renderer.page(trace_page), methods=["GET"]),
        Route("/ui/traces/{trace_id}/feedback", renderer.action(add_feedback), methods=["POST"]),
    ]
