"""What a trace, a span or an assessment may hold: the checks TraceService runs before it
stores one (ids, tag sizes, times MLflow's JSON can write back, assessment fields)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from heron.entities.assessment import (
    Assessment,
    AssessmentError,
    AssessmentKind,
    AssessmentSourceType,
)
from heron.entities.trace import MAX_TIMESTAMP_MS, TRACE_ID_PREFIX, Span, TokenUsage
from heron.errors import InvalidParameter
from heron.services import validation as v

MAX_TRACE_TAG_KEY = 250
MAX_TRACE_TAG_VALUE = 8000
MAX_ASSESSMENT_NAME = 250
# The widths of the trace tables' columns (store/sql/tables.py).
MAX_REQUEST_ID = 250  # client_request_id
MAX_SPAN_TYPE = 100
MAX_SOURCE_ID = 250  # an assessment's source
MAX_ASSESSMENT_ID = 50  # what an assessment overrides
MAX_TRACE_ID = 50  # a trace's id: MLflow's tr-<32 hex digits> is 35
TRACE_ID = re.compile(r"^[A-Za-z0-9][\w.:/-]{0,249}$")
SPAN_ID = re.compile(r"^[0-9a-f]{16}$")


def check_trace_id(trace_id: object) -> str:
    if not isinstance(trace_id, str) or not TRACE_ID.match(trace_id):
        raise InvalidParameter(
            f"Invalid trace id {trace_id!r}: expected {TRACE_ID_PREFIX}<32 hex digits>"
        )
    return trace_id


def check_new_trace_id(trace_id: object) -> str:
    """The id of a trace to store: a trace id its column holds. (A longer one names no trace,
    so reads of it answer as for any missing trace.)"""
    return v.check_length("trace_id", check_trace_id(trace_id), MAX_TRACE_ID)


def check_tag(key: object, value: object) -> None:
    key = v.check_string("Trace tag key", key)
    if not key:
        raise InvalidParameter("Trace tag key must be a non-empty string")
    v.check_length("Trace tag key", key, MAX_TRACE_TAG_KEY)
    v.check_length(
        f"Trace tag {key!r} value", v.check_string("Trace tag value", value), MAX_TRACE_TAG_VALUE
    )


def check_name(name: object) -> None:
    if not isinstance(name, str) or not name.strip():
        raise InvalidParameter("An assessment needs a non-empty name")
    v.check_length("Assessment name", name, MAX_ASSESSMENT_NAME)


def check_time(what: str, ms: object) -> int:
    """A time in ms since the epoch that MLflow's JSON can write back."""
    ms = v.check_timestamp(what, ms)
    if ms > MAX_TIMESTAMP_MS:
        raise InvalidParameter(
            f"{what} {ms} is after 9999-12-31T23:59:59.999Z, the last time MLflow's JSON can "
            "write; send milliseconds since the epoch"
        )
    return ms


def check_span(span: Span) -> None:
    """A span's ids, times, type and texts: what its columns can hold."""
    check_new_trace_id(span.trace_id)
    if not SPAN_ID.match(span.span_id):
        raise InvalidParameter(f"Invalid span id {span.span_id!r}: expected 16 hex digits")
    if span.parent_span_id is not None and not SPAN_ID.match(span.parent_span_id):
        raise InvalidParameter(
            f"Invalid parent span id {span.parent_span_id!r}: expected 16 hex digits"
        )
    _check_span_times(span)
    v.check_length(f"Span {span.name!r} type", span.span_type, MAX_SPAN_TYPE)
    for what, text in (("name", span.name), ("type", span.span_type)):
        v.check_text(f"A span's {what}", text)
    v.check_text(f"Span {span.name!r} status message", span.status_message)


def _check_span_times(span: Span) -> None:
    """Times in ns since the epoch that fit the BIGINT columns (OTLP's are unsigned)."""
    v.check_int64(f"Span {span.name!r} start time (ns)", span.start_time_ns, minimum=0)
    if span.end_time_ns is not None:
        v.check_int64(f"Span {span.name!r} end time (ns)", span.end_time_ns, minimum=0)
        if span.end_time_ns < span.start_time_ns:
            raise InvalidParameter(f"Span {span.name!r} ends before it starts")
    for event in span.events:
        v.check_int64(
            f"Span {span.name!r} event {event.name!r} time (ns)", event.time_unix_nano, minimum=0
        )


def usable_tokens(usage: TokenUsage) -> bool:
    """Whether the counts fit the BIGINT columns; others are left unset, never refused (as
    mlflow_json does with the tokenUsage metadata it reads them from)."""
    counts = (usage.input_tokens, usage.output_tokens, usage.total_tokens)
    return all(type(n) is int and 0 <= n <= v.INT64_MAX for n in counts)


def check_span_id(span_id: object) -> None:
    if span_id is not None and not (isinstance(span_id, str) and SPAN_ID.match(span_id)):
        raise InvalidParameter(f"Invalid span id {span_id!r}: expected 16 hex digits")


def check_optional_string(what: str, value: object) -> None:
    if value is not None:
        v.check_string(what, value)


def check_metadata(metadata: object) -> dict[str, str]:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or not all(
        isinstance(k, str) and isinstance(x, str) for k, x in metadata.items()
    ):
        raise InvalidParameter("Assessment metadata must be an object of string values")
    return dict(metadata)


def check_assessment(a: Assessment) -> None:
    check_trace_id(a.trace_id)
    check_name(a.name)
    if a.kind == AssessmentKind.EXPECTATION and a.value is None:
        raise InvalidParameter(f"Expectation {a.name!r} needs a value")
    check_span_id(a.span_id)
    check_optional_string("Assessment rationale", a.rationale)
    check_optional_string(
        "Assessment overrides (the id of the assessment it replaces)", a.overrides
    )
    if a.overrides is not None:
        v.check_length("Assessment overrides", a.overrides, MAX_ASSESSMENT_ID)
    v.check_length(
        "Assessment source id",
        v.check_string("Assessment source id", a.source.source_id),
        MAX_SOURCE_ID,
    )
    if a.source.source_type == AssessmentSourceType.SOURCE_TYPE_UNSPECIFIED:
        raise InvalidParameter("An assessment's source type must be HUMAN, LLM_JUDGE or CODE")
    check_metadata(a.metadata)
    check_time("Assessment create_time", a.create_time)
    check_time("Assessment last_update_time", a.last_update_time)


def check_changes(changes: Mapping[str, Any]) -> dict[str, Any]:
    """An update's changes, checked as `check_assessment` checks a new one."""
    checked = dict(changes)
    if "name" in checked:
        check_name(checked["name"])
    if "rationale" in checked:
        check_optional_string("Assessment rationale", checked["rationale"])
    if "metadata" in checked:
        checked["metadata"] = check_metadata(checked["metadata"])
    if "valid" in checked and not isinstance(checked["valid"], bool):
        raise InvalidParameter(f"Assessment valid must be true or false, got {checked['valid']!r}")
    if "span_id" in checked:
        check_span_id(checked["span_id"])
    if checked.get("error") is not None and not isinstance(checked["error"], AssessmentError):
        raise InvalidParameter("Assessment error must be an AssessmentError")
    return checked
