"""Trace pages: an experiment's traces (the Traces tab), one trace with its span tree,
timeline, the selected span's details and assessments, and the forms that add feedback and
expectations."""

from __future__ import annotations

import urllib.parse
from typing import Any

import orjson
from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities.assessment import Assessment, AssessmentKind, AssessmentSource
from heron.entities.assessment import AssessmentSourceType as Source
from heron.entities.review import ReviewQueue
from heron.errors import InvalidParameter, PermissionDenied
from heron.services.access import current_identity, requires
from heron.services.build import Services
from heron.services.trace_checks import SPAN_ID
from heron.ui import paging, trace_view, traces
from heron.ui.rendering import Form, PageResult, Renderer, field
from heron.ui.trace_compare import MAX_COMPARED

DEFAULT_FEEDBACK_NAME = "user_feedback"
DEFAULT_EXPECTATION_NAME = "expected_response"
_THUMBS = {"up": True, "down": False}
MAX_RATIONALE = 5000
MAX_EXPECTATION_CHARS = 64 * 1024


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    service = services.traces

    def trace_list(request: Request) -> PageResult:
        experiment = services.experiments.get_experiment(request.path_params["experiment_id"])
        filters = traces.TraceFilters.from_query(request.query_params)
        found = traces.load(service, experiment.experiment_id, filters)
        may_queue = services.review_queues.may_change(experiment.experiment_id)
        return "traces.html", {
            "may_queue": may_queue,  # add the ticked traces to a review queue
            "review_queues": _queues(experiment.experiment_id) if may_queue else [],
            "experiment": experiment,
            "filters": filters,
            "found": found,
            "pager": paging.pager(request, found.next_page_token),
            "statuses": traces.STATUSES,
            "ranges": traces.RANGE_LABELS,
            "user_tags": traces.user_tags,
            "assessment_columns": traces.assessment_columns(found.traces),
            "assessment_cell": traces.assessment_cell,
            "nav": "experiments",
            "tab": "traces",
        }

    def _queues(experiment_id: str) -> list[ReviewQueue]:
        return list(services.review_queues.list_queues(experiment_id, max_results=1000))

    def compare_selected(request: Request, form: Form) -> str:
        """The traces ticked in the list, compared (the list is a POST form, for its
        other action: adding them to a review queue)."""
        ids = list(dict.fromkeys(i.strip() for i in form.get("ids", []) if i.strip()))
        if not 2 <= len(ids) <= MAX_COMPARED:
            raise InvalidParameter(f"Tick 2 to {MAX_COMPARED} traces to compare, not {len(ids)}")
        return "/traces/compare?" + urllib.parse.urlencode([("ids", i) for i in ids])

    def trace_page(request: Request) -> PageResult:
        trace = service.get_trace(request.path_params["trace_id"])
        experiment = services.experiments.get_experiment(trace.info.experiment_id)
        shown = trace_view.view(trace, request.query_params.get("span"))
        try:  # the serving requests this trace recorded, when the caller may read them
            inference = services.inference.records_of_trace(trace.info.trace_id)
        except PermissionDenied:
            inference = []
        return "trace.html", {
            "inference": inference,
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
            "status_note": trace_view.status_note,
            "ms": trace_view.ms,
            "value_text": trace_view.value_text,
            "default_feedback_name": DEFAULT_FEEDBACK_NAME,
            "default_expectation_name": DEFAULT_EXPECTATION_NAME,
            "nav": "experiments",
        }

    def add_feedback(request: Request, form: Form) -> str:
        """Thumbs up or down, with a rationale, from the person using the UI (a HUMAN
        source named by the request's identity), on the trace or the span it names."""
        thumb = field(form, "value")
        if thumb not in _THUMBS:
            raise InvalidParameter("Feedback must be thumbs up or thumbs down")
        rationale = field(form, "rationale").strip()
        if len(rationale) > MAX_RATIONALE:
            raise InvalidParameter(f"The rationale is longer than {MAX_RATIONALE} characters")
        return _add(request, form, AssessmentKind.FEEDBACK, _THUMBS[thumb], rationale or None)

    def add_expectation(request: Request, form: Form) -> str:
        """Ground truth from the person using the UI: a name and a value, read as JSON or
        kept as text, on the trace or the span it names."""
        value = expectation_value(field(form, "value"), field(form, "read_as"))
        return _add(request, form, AssessmentKind.EXPECTATION, value, None)

    def _add(
        request: Request, form: Form, kind: AssessmentKind, value: Any, rationale: str | None
    ) -> str:
        """Creates the assessment through the traces service (which checks the caller may
        change the trace) and returns the trace page, with the span the page had selected."""
        trace_id = request.path_params["trace_id"]
        span_id = field(form, "span_id") or None
        default_name = (
            DEFAULT_FEEDBACK_NAME if kind == AssessmentKind.FEEDBACK else DEFAULT_EXPECTATION_NAME
        )
        service.create_assessment(
            Assessment(
                assessment_id="",
                trace_id=trace_id,
                name=field(form, "name").strip() or default_name,
                kind=kind,
                value=value,
                source=AssessmentSource(
                    source_type=Source.HUMAN, source_id=current_identity().name
                ),
                span_id=span_id,
                rationale=rationale,
            )
        )
        shown = field(form, "selected") or span_id  # the span the page had selected
        if shown and not SPAN_ID.match(shown):
            shown = None  # not a span id: not copied into the page's address
        query = f"?span={urllib.parse.quote(shown, safe='')}" if shown else ""
        return f"/traces/{urllib.parse.quote(trace_id, safe='')}{query}#assessments"

    updates = requires("update", "trace", "trace_id")
    return [
        renderer.get(
            "/experiments/{experiment_id}/traces",
            trace_list,
            requires("read", "experiment", "experiment_id"),
        ),
        renderer.post(
            "/ui/experiments/{experiment_id}/traces/compare",
            compare_selected,
            requires("read", "experiment", "experiment_id"),
        ),
        renderer.get("/traces/{trace_id}", trace_page, requires("read", "trace", "trace_id")),
        renderer.post("/ui/traces/{trace_id}/feedback", add_feedback, updates),
        renderer.post("/ui/traces/{trace_id}/expectation", add_expectation, updates),
    ]


def expectation_value(text: str, read_as: str) -> Any:
    """An expectation's value from the form: `read_as` "json" reads any JSON value (an object,
    a list, a number, true, a quoted string), "text" keeps the text as a string.

    Raises:
        InvalidParameter: no value, an unknown format, a value too long, or bad JSON.
    """
    if read_as not in ("json", "text"):
        raise InvalidParameter("Read the expectation's value as JSON or as text")
    if not text.strip():
        raise InvalidParameter("An expectation needs a value: the answer or facts expected")
    if len(text) > MAX_EXPECTATION_CHARS:
        raise InvalidParameter(
            f"The expectation's value is longer than {MAX_EXPECTATION_CHARS} characters"
        )
    if read_as == "text":
        return text
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise InvalidParameter(
            f"The expectation's value is not valid JSON ({exc}); fix it, or choose Text to "
            "keep it as a string"
        ) from None
