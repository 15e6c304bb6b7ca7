"""Assessments as MLflow's JSON message (assessments.Assessment), both ways: feedback and
expectations, their sources, errors and override links."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import orjson

from heron.entities.assessment import (
    Assessment,
    AssessmentError,
    AssessmentKind,
    AssessmentSource,
    AssessmentSourceType,
)
from heron.errors import InvalidParameter
from heron.mlflow_json.proto import Json, parse_timestamp, string_map, timestamp

_PRIMITIVE = (str, int, float, bool)


def assessment(a: Assessment) -> Json:
    body: Json = {
        "assessment_id": a.assessment_id,
        "assessment_name": a.name,
        "trace_id": a.trace_id,
        "source": {"source_type": a.source.source_type.value, "source_id": a.source.source_id},
        "create_time": timestamp(a.create_time),
        "last_update_time": timestamp(a.last_update_time),
        "valid": a.valid,
    }
    if a.span_id:
        body["span_id"] = a.span_id
    if a.kind == AssessmentKind.FEEDBACK:
        feedback: Json = {"value": a.value}
        if a.error is not None:
            feedback["error"] = _error(a.error)
        body["feedback"] = feedback
    elif a.value is None or isinstance(a.value, _PRIMITIVE):
        body["expectation"] = {"value": a.value}
    else:
        # MLflow compat: lists and objects travel as JSON text in serialized_value.
        body["expectation"] = {
            "serialized_value": {
                "serialization_format": "JSON_FORMAT",
                "value": orjson.dumps(a.value).decode(),
            }
        }
    if a.rationale:
        body["rationale"] = a.rationale
    if a.metadata:
        body["metadata"] = dict(a.metadata)
    if a.overrides:
        body["overrides"] = a.overrides
    return body


def _error(e: AssessmentError) -> Json:
    return {k: v for k, v in dataclasses.asdict(e).items() if v}


def parse_assessment(data: Mapping[str, Any], *, trace_id: str | None = None) -> Assessment:
    """An assessments.Assessment in proto JSON.

    Raises:
        InvalidParameter: no name, neither or both of feedback and expectation, a bad source.
    """
    if not isinstance(data, Mapping):
        raise InvalidParameter("assessment must be an object")
    name = data.get("assessment_name")
    if not isinstance(name, str) or not name:
        raise InvalidParameter("Missing value for required parameter 'assessment.assessment_name'")
    feedback, expectation = data.get("feedback"), data.get("expectation")
    if (feedback is None) == (expectation is None):
        raise InvalidParameter("An assessment needs exactly one of 'feedback' or 'expectation'")
    kind, value, error = _payload(feedback, expectation)
    source = data.get("source") or {}
    source_type = source.get("source_type", "CODE") if isinstance(source, Mapping) else None
    if source_type not in AssessmentSourceType.__members__:
        raise InvalidParameter(
            "assessment.source.source_type must be one of HUMAN, LLM_JUDGE, CODE, got "
            f"{source_type!r}"
        )
    source_id = source.get("source_id") or "default"
    created = data.get("create_time")
    updated = data.get("last_update_time")
    return Assessment(
        assessment_id=str(data.get("assessment_id") or ""),
        trace_id=trace_id or str(data.get("trace_id") or ""),
        name=name,
        kind=kind,
        value=value,
        source=AssessmentSource(
            source_type=AssessmentSourceType(str(source_type)), source_id=str(source_id)
        ),
        span_id=data.get("span_id") or None,
        rationale=data.get("rationale") or None,
        error=error,
        metadata=string_map(data.get("metadata"), "assessment.metadata"),
        create_time=0 if created is None else parse_timestamp(created, "assessment.create_time"),
        last_update_time=0
        if updated is None
        else parse_timestamp(updated, "assessment.last_update_time"),
        overrides=data.get("overrides") or None,
        valid=data.get("valid", True) is not False,
    )


def _payload(feedback: Any, expectation: Any) -> tuple[AssessmentKind, Any, AssessmentError | None]:
    if feedback is not None:
        if not isinstance(feedback, Mapping):
            raise InvalidParameter("assessment.feedback must be an object")
        raw_error = feedback.get("error")
        error = None
        if isinstance(raw_error, Mapping) and raw_error:
            error = AssessmentError(
                error_code=raw_error.get("error_code"),
                error_message=raw_error.get("error_message"),
                stack_trace=raw_error.get("stack_trace"),
            )
        return AssessmentKind.FEEDBACK, feedback.get("value"), error
    if not isinstance(expectation, Mapping):
        raise InvalidParameter("assessment.expectation must be an object")
    serialized = expectation.get("serialized_value")
    if isinstance(serialized, Mapping):
        try:
            value = orjson.loads(serialized.get("value") or "null")
        except orjson.JSONDecodeError:
            raise InvalidParameter(
                "assessment.expectation.serialized_value is not valid JSON"
            ) from None
        return AssessmentKind.EXPECTATION, value, None
    return AssessmentKind.EXPECTATION, expectation.get("value"), None
