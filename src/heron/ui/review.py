"""Human review in the UI: an experiment's review queues and label schemas (its Review tab),
and the review page where a reviewer walks a queue's traces, answers each question and marks
the trace reviewed. Answers are HUMAN assessments named for their label schema."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities.assessment import Assessment, AssessmentKind, AssessmentSource
from heron.entities.assessment import AssessmentSourceType as Source
from heron.entities.review import (
    InputCategorical,
    InputNumeric,
    InputPassFail,
    LabelSchema,
    LabelSchemaType,
    ReviewQueueItem,
    ReviewStatus,
)
from heron.errors import InvalidParameter
from heron.services.access import current_identity, requires
from heron.services.build import Services
from heron.ui import trace_view
from heron.ui.rendering import Form, PageResult, Renderer, field
from heron.ui.review_forms import queue_href

MAX_ITEMS_SHOWN = 1000  # the queue's traces listed beside the one under review
MAX_COMMENT = 5000
AGREEMENT_TRACES = 2000  # the newest traces the Review tab measures judges on


@dataclass(frozen=True, slots=True)
class Question:
    schema: LabelSchema
    kind: str  # pass_fail, categorical, numeric, text
    answer: Assessment | None  # what this reviewer answered before


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    queues = services.review_queues

    def review_tab(request: Request) -> PageResult:
        experiment = services.experiments.get_experiment(request.path_params["experiment_id"])
        found = queues.list_queues(experiment.experiment_id, max_results=1000)
        return "review.html", {
            "experiment": experiment,
            "queues": [(q, queues.progress(q)) for q in found],
            "schemas": services.label_schemas.schemas_of(experiment.experiment_id),
            "agreements": services.judge_agreement.experiment_agreement(
                experiment.experiment_id, max_traces=AGREEMENT_TRACES
            ),
            "agreement_traces": AGREEMENT_TRACES,
            "kind_of": kind_of,
            "may_change": queues.may_change(experiment.experiment_id),
            "nav": "experiments",
            "tab": "review",
        }

    def queue_page(request: Request) -> PageResult:
        queue = queues.get_queue(request.path_params["queue_id"])
        items = list(queues.list_items(queue.queue_id, max_results=MAX_ITEMS_SHOWN))
        current = _current(items, request.query_params.get("item"))
        trace = services.traces.get_trace(current.item_id) if current else None
        reviewer = current_identity().name.lower()
        asked = queues.questions(queue)
        mine = _answers(trace.info.assessments if trace else (), reviewer)
        index = items.index(current) if current else -1
        return "review_queue.html", {
            "experiment": services.experiments.get_experiment(queue.experiment_id),
            "queue": queue,
            "items": items,
            "current": current,
            "index": index,
            "previous": items[index - 1] if index > 0 else None,
            "following": items[index + 1] if 0 <= index < len(items) - 1 else None,
            "trace": trace,
            "root": trace.root_span if trace else None,
            "questions": [Question(s, kind_of(s), mine.get(s.name)) for s in asked],
            "progress": queues.progress(queue),
            "pretty": trace_view.pretty,
            "reviewer": reviewer,
            "may_change": queues.may_change(queue.experiment_id),
            "nav": "experiments",
        }

    def record(request: Request, form: Form) -> str:
        """The reviewer's answers (HUMAN assessments on the trace), then the trace marked
        COMPLETE (or DECLINED); returns the next pending trace of the queue."""
        queue = queues.get_queue(request.path_params["queue_id"])
        item_id = request.path_params["item_id"]
        action = field(form, "action")
        if action not in ("complete", "decline"):
            raise InvalidParameter("Mark the trace complete or decline it")
        reviewer = current_identity().name
        answers = (
            [_answer(s, form) for s in queues.questions(queue)] if action == "complete" else []
        )
        status = ReviewStatus.COMPLETE if action == "complete" else ReviewStatus.DECLINED
        # the status first: it refuses a trace that is not in the queue
        queues.set_item_status(queue.queue_id, item_id, status, reviewer)
        for schema, value, comment in answers:
            if value is not None:
                services.traces.create_assessment(
                    Assessment(
                        assessment_id="",
                        trace_id=item_id,
                        name=schema.name,
                        kind=_kind(schema),
                        value=value,
                        source=AssessmentSource(source_type=Source.HUMAN, source_id=reviewer),
                        rationale=comment,
                    )
                )
        return queue_href(queue.queue_id)

    return [
        renderer.get(
            "/experiments/{experiment_id}/review",
            review_tab,
            requires("read", "experiment", "experiment_id"),
        ),
        renderer.get("/review-queues/{queue_id}", queue_page, requires("read", "experiment")),
        renderer.post(
            "/ui/review-queues/{queue_id}/items/{item_id}",
            record,
            requires("annotate", "experiment"),
        ),
    ]


def kind_of(schema: LabelSchema) -> str:
    if isinstance(schema.input, InputPassFail):
        return "pass_fail"
    if isinstance(schema.input, InputCategorical):
        return "categorical"
    if isinstance(schema.input, InputNumeric):
        return "numeric"
    return "text"


def _kind(schema: LabelSchema) -> AssessmentKind:
    if schema.type is LabelSchemaType.EXPECTATION:
        return AssessmentKind.EXPECTATION
    return AssessmentKind.FEEDBACK


def _current(items: list[ReviewQueueItem], wanted: str | None) -> ReviewQueueItem | None:
    """The trace the page shows: the one asked for, else the first still pending."""
    if wanted:
        for item in items:
            if item.item_id == wanted:
                return item
        raise InvalidParameter(f"Trace {wanted[:60]!r} is not in this queue")
    return next((i for i in items if i.status is ReviewStatus.PENDING), None)


def _answers(assessments: Any, reviewer: str) -> dict[str, Assessment]:
    """This reviewer's latest valid answer to each question, by name."""
    found: dict[str, Assessment] = {}
    for a in sorted(assessments, key=lambda a: a.create_time):
        human = a.valid and a.source.source_type is Source.HUMAN
        if human and (a.source.source_id or "").lower() == reviewer:
            found[a.name] = a
    return found


def answer_value(schema: LabelSchema, values: list[str]) -> Any:
    """The value a form's answer stands for (None: not answered), checked against the
    schema's input.

    Raises:
        InvalidParameter: an answer the schema does not allow, saying which question.
    """
    given = [v for v in values if v.strip()]
    if not given:
        return None
    spec = schema.input
    if isinstance(spec, InputPassFail):
        if given[0] not in ("pass", "fail"):
            raise InvalidParameter(
                f"{schema.name}: choose {spec.positive_label} or {spec.negative_label}"
            )
        return given[0] == "pass"
    if isinstance(spec, InputCategorical):
        unknown = [v for v in given if v not in spec.options]
        if unknown:
            raise InvalidParameter(f"{schema.name}: {unknown[0]!r} is not one of the options")
        return given if spec.multi_select else given[0]
    if isinstance(spec, InputNumeric):
        try:
            number = float(given[0])
        except ValueError:
            raise InvalidParameter(f"{schema.name}: {given[0][:40]!r} is not a number") from None
        low, high = spec.min_value, spec.max_value
        if (
            not math.isfinite(number)
            or (low is not None and number < low)
            or (high is not None and number > high)
        ):
            raise InvalidParameter(f"{schema.name}: the number is outside {low} to {high}")
        return int(number) if number.is_integer() else number
    limit = spec.max_length
    if limit is not None and len(given[0]) > limit:
        raise InvalidParameter(f"{schema.name}: the answer is longer than {limit} characters")
    return given[0]


def _answer(schema: LabelSchema, form: Form) -> tuple[LabelSchema, Any, str | None]:
    value = answer_value(schema, form.get(f"q-{schema.schema_id}", []))
    comment = field(form, f"c-{schema.schema_id}").strip()
    if len(comment) > MAX_COMMENT:
        raise InvalidParameter(
            f"{schema.name}: the comment is longer than {MAX_COMMENT} characters"
        )
    return schema, value, (comment if schema.enable_comment and comment else None)
