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
from heron.mlflow_json.proto import Json, parse_timestamp, shown, string_map, timestamp

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
        InvalidParameter: no name, neither or both of feedback and expectation, a bad source,
            a field of the wrong type or a time out of range.
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
    created = data.get("create_time")
    updated = data.get("last_update_time")
    valid = data.get("valid")
    if valid is not None and not isinstance(valid, bool):
        raise InvalidParameter(f"assessment.valid must be true or false, got {shown(valid)}")
    return Assessment(
        assessment_id=_string(data, "assessment_id") or "",
        trace_id=trace_id or _string(data, "trace_id") or "",
        name=name,
        kind=kind,
        value=value,
        source=_source(data.get("source")),
        span_id=_string(data, "span_id"),
        rationale=_string(data, "rationale"),
        error=error,
        metadata=string_map(data.get("metadata"), "assessment.metadata"),
        create_time=0 if created is None else parse_timestamp(created, "assessment.create_time"),
        last_update_time=0
        if updated is None
        else parse_timestamp(updated, "assessment.last_update_time"),
        overrides=_string(data, "overrides"),
        valid=valid is not False,
    )


def _string(data: Mapping[str, Any], name: str, *, within: str = "assessment") -> str | None:
    """An optional string field: None when it is absent, null or empty."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidParameter(f"{within}.{name} must be a string, got {shown(value)}")
    return value


def _source(source: Any) -> AssessmentSource:
    if source is None:
        return AssessmentSource()
    if not isinstance(source, Mapping):
        raise InvalidParameter("assessment.source must be an object")
    source_type = source.get("source_type", "CODE")
    # A name, as MLflow's client sends it (protobuf would take the number too; Heron never has).
    if not isinstance(source_type, str) or source_type not in AssessmentSourceType.__members__:
        raise InvalidParameter(
            "assessment.source.source_type must be one of HUMAN, LLM_JUDGE, CODE, got "
            f"{shown(source_type)}"
        )
    return AssessmentSource(
        source_type=AssessmentSourceType(source_type),
        source_id=_string(source, "source_id", within="assessment.source") or "default",
    )


def _payload(feedback: Any, expectation: Any) -> tuple[AssessmentKind, Any, AssessmentError | None]:
    if feedback is not None:
        if not isinstance(feedback, Mapping):
            raise InvalidParameter("assessment.feedback must be an object")
        raw_error = feedback.get("error")
        error = None
        if isinstance(raw_error, Mapping) and raw_error:
            error = AssessmentError(
                **{
                    key: _string(raw_error, key, within="assessment.feedback.error")
                    for key in ("error_code", "error_message", "stack_trace")
                }
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
