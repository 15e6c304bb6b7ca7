"""The forms of human review in the UI: a new label schema (pass/fail, categorical, numeric or
text, with its instruction) and a new review queue (its reviewers and questions) on the
Review tab; adding traces to a queue by id on the queue's page. Each is guarded by the
permission of its API route (update on the experiment)."""

from __future__ import annotations

import math
import re
import urllib.parse

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities.review import (
    InputCategorical,
    InputNumeric,
    InputPassFail,
    InputText,
    LabelInput,
    LabelSchemaType,
    ReviewQueueType,
)
from heron.errors import InvalidParameter
from heron.services.access import requires
from heron.services.build import Services
from heron.ui.rendering import Form, Renderer, field

_LIST = re.compile(r"[\n,]+")


def listed(text: str) -> list[str]:
    """Names a form lists one a line or separated by commas, blanks left out."""
    return [part.strip() for part in _LIST.split(text) if part.strip()]


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    def new_schema(request: Request, form: Form) -> str:
        experiment_id = request.path_params["experiment_id"]
        kind = field(form, "type") or "feedback"
        if kind not in ("feedback", "expectation"):
            raise InvalidParameter("A label schema records feedback or an expectation")
        services.label_schemas.create_schema(
            experiment_id,
            field(form, "name").strip(),
            LabelSchemaType.FEEDBACK if kind == "feedback" else LabelSchemaType.EXPECTATION,
            label_input(form),
            instruction=field(form, "instruction").strip() or None,
            enable_comment=field(form, "enable_comment") == "on",
        )
        return review_tab_href(experiment_id)

    def new_queue(request: Request, form: Form) -> str:
        experiment_id = request.path_params["experiment_id"]
        queue = services.review_queues.create_queue(
            experiment_id,
            field(form, "name").strip(),
            ReviewQueueType.CUSTOM,
            users=listed(field(form, "users")),
            schema_ids=form.get("schema_ids", []),
        )
        return queue_href(queue.queue_id)

    def add_traces(request: Request, form: Form) -> str:
        queue_id = request.path_params["queue_id"]
        wanted = listed(field(form, "trace_ids"))
        if not wanted:
            raise InvalidParameter("List the ids of the traces to queue, one a line")
        services.review_queues.add_items(queue_id, wanted)
        return queue_href(queue_id)

    in_experiment = requires("update", "experiment", "experiment_id")
    on_queue = requires("update", "experiment")  # the service checks the queue's experiment
    return [
        renderer.post("/ui/experiments/{experiment_id}/label-schemas", new_schema, in_experiment),
        renderer.post("/ui/experiments/{experiment_id}/review-queues", new_queue, in_experiment),
        renderer.post("/ui/review-queues/{queue_id}/traces", add_traces, on_queue),
    ]


def label_input(form: Form) -> LabelInput:
    """The input the form describes. Raises InvalidParameter naming the field to fix."""
    kind = field(form, "input")
    if kind == "pass_fail":
        return InputPassFail(
            positive_label=field(form, "positive_label").strip() or "Pass",
            negative_label=field(form, "negative_label").strip() or "Fail",
        )
    if kind == "categorical":
        return InputCategorical(
            options=tuple(listed(field(form, "options"))),
            multi_select=field(form, "multi_select") == "on",
        )
    if kind == "numeric":
        return InputNumeric(
            min_value=_number(form, "min_value"), max_value=_number(form, "max_value")
        )
    if kind == "text":
        limit = _number(form, "max_length")
        if limit is not None and not limit.is_integer():
            raise InvalidParameter("The text's maximum length is a whole number")
        return InputText(max_length=None if limit is None else int(limit))
    raise InvalidParameter("Choose the answer's kind: pass/fail, categorical, numeric or text")


def _number(form: Form, name: str) -> float | None:
    text = field(form, name).strip()
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise InvalidParameter(f"{name}: {text[:40]!r} is not a number") from None
    if not math.isfinite(number):
        raise InvalidParameter(f"{name} must be a finite number")
    return number


def review_tab_href(experiment_id: str) -> str:
    """The address of an experiment's Review tab."""
    return f"/experiments/{urllib.parse.quote(experiment_id, safe='')}/review"


def queue_href(queue_id: str) -> str:
    """The address of a review queue's page."""
    return f"/review-queues/{urllib.parse.quote(queue_id, safe='')}"
