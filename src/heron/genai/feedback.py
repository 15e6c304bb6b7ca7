"""What a scorer returns: Feedback (a value with its rationale), and how any return becomes it."""

from __future__ import annotations

import math
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from heron.entities.assessment import AssessmentError, AssessmentSource, AssessmentSourceType
from heron.errors import InvalidParameter

SCORER_ERROR = "SCORER_ERROR"


@dataclass(frozen=True, slots=True, kw_only=True)
class Feedback:
    """One judgement of one row: a bool, number, string or JSON value, why, and where it came
    from. A scorer returns a value, a Feedback, or a list of either; `name` defaults to the
    scorer's. `error` is set instead of `value` when the scorer failed.

    Example:
        >>> @heron.genai.scorer
        ... def concise(outputs) -> Feedback:
        ...     return Feedback(value=len(outputs) < 200, rationale=f"{len(outputs)} chars")
    """

    value: Any = None
    rationale: str | None = None
    name: str | None = None
    source: AssessmentSource | None = None
    error: AssessmentError | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    span_id: str | None = None  # the span judged (a retriever's), else the trace's root


def error_feedback(name: str, source: AssessmentSource, exc: BaseException) -> Feedback:
    """The feedback a failing scorer leaves: no value, the reason and the stack."""
    message = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    stack = "".join(traceback.format_exception(exc))[-4000:]
    return Feedback(
        name=name,
        source=source,
        error=AssessmentError(error_code=SCORER_ERROR, error_message=message, stack_trace=stack),
    )


def code_source(scorer_name: str) -> AssessmentSource:
    return AssessmentSource(source_type=AssessmentSourceType.CODE, source_id=scorer_name)


def feedbacks_of(value: Any, name: str, source: AssessmentSource) -> list[Feedback]:
    """A scorer's return value as Feedback: None is no score; a primitive, a Feedback or a list
    of Feedback; any other list is one value of list type.

    Raises:
        InvalidParameter: a value no assessment can hold (an object, NaN).
    """
    if value is None:
        return []
    if isinstance(value, Feedback):
        return [_named(value, name, source)]
    if isinstance(value, list | tuple) and value and all(isinstance(v, Feedback) for v in value):
        return [_named(v, name, source) for v in value]
    _check_value(value, name)
    return [Feedback(name=name, value=value, source=source)]


def _named(feedback: Feedback, name: str, source: AssessmentSource) -> Feedback:
    if feedback.value is not None:
        _check_value(feedback.value, name)
    return replace(feedback, name=feedback.name or name, source=feedback.source or source)


def _check_value(value: Any, name: str) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidParameter(f"Scorer {name!r} returned {value}: a score must be finite")
    if not isinstance(value, str | bool | int | float | list | tuple | dict):
        raise InvalidParameter(
            f"Scorer {name!r} returned a {type(value).__name__}: return a bool, a number, a "
            "string, a list or dict of them, a Feedback, or a list of Feedback"
        )
