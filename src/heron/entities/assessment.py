"""Assessments of a trace or one of its spans: feedback (a judgement) and expectations."""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class AssessmentSourceType(enum.StrEnum):
    SOURCE_TYPE_UNSPECIFIED = "SOURCE_TYPE_UNSPECIFIED"
    HUMAN = "HUMAN"
    LLM_JUDGE = "LLM_JUDGE"
    CODE = "CODE"


class AssessmentKind(enum.StrEnum):
    FEEDBACK = "feedback"  # from a person, an LLM judge or code: was this right?
    EXPECTATION = "expectation"  # ground truth: what it should have been


@dataclass(frozen=True, slots=True, kw_only=True)
class AssessmentSource:
    source_type: AssessmentSourceType = AssessmentSourceType.CODE
    source_id: str = "default"


@dataclass(frozen=True, slots=True, kw_only=True)
class AssessmentError:
    error_code: str | None = None
    error_message: str | None = None
    stack_trace: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Assessment:
    """`value` is any JSON value (bool, number, string, list, object). An override creates a new
    assessment naming the old one in `overrides`; the old one stays, with `valid` False."""

    assessment_id: str  # "a-" + 32 hex digits
    trace_id: str
    name: str
    kind: AssessmentKind
    value: Any = None
    source: AssessmentSource = field(default_factory=AssessmentSource)
    span_id: str | None = None
    rationale: str | None = None
    error: AssessmentError | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    create_time: int = 0  # ms since epoch
    last_update_time: int = 0  # ms since epoch
    overrides: str | None = None
    valid: bool = True


def feedback_number(value: Any) -> float | None:
    """A feedback value as a number for the run's aggregates: bools as 0/1, "yes"/"no" as
    1/0 (the judges' verdicts), numbers as they are; anything else is not aggregated."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        verdict = value.strip().lower()
        if verdict in ("yes", "pass", "true"):
            return 1.0
        if verdict in ("no", "fail", "false"):
            return 0.0
    return None
