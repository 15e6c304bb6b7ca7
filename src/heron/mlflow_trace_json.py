"""Traces and assessments as MLflow's JSON messages (TraceInfoV3, otel.Span, Assessment), both
ways: what the server answers and the client reads, and what the client sends.

Proto-JSON conventions: Timestamps are RFC 3339 strings, Durations "1.5s", span and trace ids
inside spans are base64 bytes, attribute values are OTel AnyValues."""

from __future__ import annotations

import base64
import dataclasses
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson

from heron.entities.assessment import (
    Assessment,
    AssessmentError,
    AssessmentKind,
    AssessmentSource,
    AssessmentSourceType,
)
from heron.entities.trace import (
    TRACE_ID_PREFIX,
    Span,
    SpanEvent,
    SpanStatusCode,
    TokenUsage,
    Trace,
    TraceInfo,
    TraceState,
)
from heron.errors import InvalidParameter

Json = dict[str, Any]
SPAN_TYPE = "mlflow.spanType"
SPAN_INPUTS = "mlflow.spanInputs"
SPAN_OUTPUTS = "mlflow.spanOutputs"
REQUEST_ID = "mlflow.traceRequestId"
TOKEN_USAGE_METADATA = "mlflow.trace.tokenUsage"  # noqa: S105 (not a secret)
_STATUS_CODES = {
    SpanStatusCode.UNSET: "STATUS_CODE_UNSET",
    SpanStatusCode.OK: "STATUS_CODE_OK",
    SpanStatusCode.ERROR: "STATUS_CODE_ERROR",
}
_STATUS_BY_NAME: dict[str | int, SpanStatusCode] = {
    **{name: code for code, name in _STATUS_CODES.items()},
    "UNSET": SpanStatusCode.UNSET,
    "OK": SpanStatusCode.OK,
    "ERROR": SpanStatusCode.ERROR,
    0: SpanStatusCode.UNSET,
    1: SpanStatusCode.OK,
    2: SpanStatusCode.ERROR,
}
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$"
)
_DURATION = re.compile(r"^(-?)(\d+)(?:\.(\d{1,9}))?s$")
_INT64 = (-(2**63), 2**63 - 1)


# -- times -----------------------------------------------------------------------------------


def timestamp(ms: int) -> str:
    """Milliseconds since the epoch as an RFC 3339 string (what pb.Timestamp is in JSON)."""
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def duration(ms: int) -> str:
    return f"{ms // 1000}.{ms % 1000:03d}s"


def parse_timestamp(value: object, what: str) -> int:
    """An RFC 3339 string (or an integer of ms) as ms since the epoch."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _TIMESTAMP.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidParameter(
            f"{what} must be an RFC 3339 timestamp such as 2025-01-31T12:00:00.5Z, got {value!r}"
        )
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    try:
        moment = datetime.fromisoformat(
            f"{year}-{month}-{day}T{hour}:{minute}:{second}{'+00:00' if zone in 'Zz' else zone}"
        )
    except ValueError:
        raise InvalidParameter(f"{what} is not a valid date and time: {value!r}") from None
    millis = int((fraction or "0").ljust(9, "0")[:3])
    return int(moment.timestamp()) * 1000 + millis


def parse_duration(value: object, what: str) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None:
        raise InvalidParameter(f"{what} must be a duration such as '1.5s', got {value!r}")
    sign, seconds, fraction = match.groups()
    ms = int(seconds) * 1000 + int((fraction or "0").ljust(9, "0")[:3])
    return -ms if sign else ms


# -- OTel AnyValue ---------------------------------------------------------------------------


def any_value(value: Any) -> Json:
    """A Python JSON value as an OTel AnyValue in proto JSON."""
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"bool_value": value}
    if isinstance(value, int):
        if _INT64[0] <= value <= _INT64[1]:
            return {"int_value": value}
        return {"string_value": str(value)}
    if isinstance(value, float):
        if math.isfinite(value):
            return {"double_value": value}
        return {
            "double_value": "NaN"
            if math.isnan(value)
            else ("Infinity" if value > 0 else "-Infinity")
        }
    if isinstance(value, str):
        return {"string_value": value}
    if isinstance(value, Mapping):
        return {
            "kvlist_value": {
                "values": [{"key": str(k), "value": any_value(v)} for k, v in value.items()]
            }
        }
    if isinstance(value, list | tuple):
        return {"array_value": {"values": [any_value(v) for v in value]}}
    return {"string_value": str(value)}


def from_any_value(value: Any) -> Any:
    """An OTel AnyValue in proto JSON as a Python JSON value."""
    if not isinstance(value, Mapping) or not value:
        return None
    for key, item in value.items():
        name = _snake(key)
        if name == "string_value" or name == "bool_value":
            return item
        if name == "int_value":
            return int(item)
        if name == "double_value":
            return float(item)
        if name == "bytes_value":
            return item  # already base64 text in JSON
        if name == "array_value":
            return [from_any_value(v) for v in (item or {}).get("values", [])]
        if name == "kvlist_value":
            return {
                kv.get("key", ""): from_any_value(kv.get("value"))
                for kv in (item or {}).get("values", [])
            }
    return None


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def key_values(attributes: Mapping[str, Any]) -> list[Json]:
    return [{"key": k, "value": any_value(v)} for k, v in attributes.items()]


# -- spans -----------------------------------------------------------------------------------


def _b64(hex_id: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_id)).decode("ascii")


def otel_trace_hex(trace_id: str) -> str:
    """The 32 hex digits of the OTel trace id inside an MLflow trace id `tr-<hex>`."""
    hex_id = trace_id.removeprefix(TRACE_ID_PREFIX)
    return hex_id if re.fullmatch(r"[0-9a-fA-F]{32}", hex_id) else "0" * 32


def mlflow_attributes(span: Span) -> dict[str, Any]:
    """Every attribute as MLflow's client reads it: inputs, outputs and type included."""
    attributes = dict(span.attributes)
    attributes[REQUEST_ID] = span.trace_id
    attributes[SPAN_TYPE] = span.span_type
    if span.inputs is not None:
        attributes[SPAN_INPUTS] = span.inputs
    if span.outputs is not None:
        attributes[SPAN_OUTPUTS] = span.outputs
    return attributes


def span(s: Span) -> Json:
    body: Json = {
        "trace_id": _b64(otel_trace_hex(s.trace_id)),
        "span_id": _b64(s.span_id),
        "name": s.name,
        "start_time_unix_nano": s.start_time_ns,
        "attributes": key_values(mlflow_attributes(s)),
        "status": {"code": _STATUS_CODES[s.status]},
    }
    if s.parent_span_id:
        body["parent_span_id"] = _b64(s.parent_span_id)
    if s.end_time_ns is not None:
        body["end_time_unix_nano"] = s.end_time_ns
    if s.status_message:
        body["status"]["message"] = s.status_message
    if s.events:
        body["events"] = [
            {
                "name": e.name,
                "time_unix_nano": e.time_unix_nano,
                "attributes": key_values(e.attributes),
            }
            for e in s.events
        ]
    return body


def split_attributes(attributes: dict[str, Any]) -> tuple[str, Any, Any]:
    """Pops MLflow's span type, inputs and outputs (and the request id) from decoded attributes."""
    attributes.pop(REQUEST_ID, None)
    span_type = attributes.pop(SPAN_TYPE, None)
    inputs = attributes.pop(SPAN_INPUTS, None)
    outputs = attributes.pop(SPAN_OUTPUTS, None)
    return (span_type if isinstance(span_type, str) and span_type else "UNKNOWN"), inputs, outputs


def parse_span(data: Mapping[str, Any], trace_id: str) -> Span:
    """An otel.Span in proto JSON (as the server answers it) as a Span of `trace_id`."""
    attributes = {kv["key"]: from_any_value(kv.get("value")) for kv in data.get("attributes", [])}
    span_type, inputs, outputs = split_attributes(attributes)
    parent = data.get("parent_span_id")
    status = data.get("status") or {}
    end = data.get("end_time_unix_nano")
    return Span(
        trace_id=trace_id,
        span_id=base64.b64decode(data["span_id"]).hex(),
        parent_span_id=base64.b64decode(parent).hex() if parent else None,
        name=data.get("name", ""),
        span_type=span_type,
        status=_STATUS_BY_NAME.get(status.get("code", 0), SpanStatusCode.UNSET),
        status_message=status.get("message", ""),
        start_time_ns=int(data.get("start_time_unix_nano", 0)),
        end_time_ns=int(end) if end else None,
        inputs=inputs,
        outputs=outputs,
        attributes=attributes,
        events=[
            SpanEvent(
                name=e.get("name", ""),
                time_unix_nano=int(e.get("time_unix_nano", 0)),
                attributes={
                    kv["key"]: from_any_value(kv.get("value")) for kv in e.get("attributes", [])
                },
            )
            for e in data.get("events", [])
        ],
    )


# -- trace infos -----------------------------------------------------------------------------


def trace_info(info: TraceInfo) -> Json:
    body: Json = {
        "trace_id": info.trace_id,
        "trace_location": {
            "type": "MLFLOW_EXPERIMENT",
            "mlflow_experiment": {"experiment_id": info.experiment_id},
        },
        "request_time": timestamp(info.request_time),
        "state": info.state.value,
    }
    if info.client_request_id:
        body["client_request_id"] = info.client_request_id
    if info.execution_duration is not None:
        body["execution_duration"] = duration(info.execution_duration)
    if info.request_preview is not None:
        body["request_preview"] = info.request_preview
    if info.response_preview is not None:
        body["response_preview"] = info.response_preview
    metadata = dict(info.trace_metadata)
    if info.token_usage is not None and TOKEN_USAGE_METADATA not in metadata:
        u = info.token_usage
        metadata[TOKEN_USAGE_METADATA] = (
            f'{{"input_tokens": {u.input_tokens}, "output_tokens": {u.output_tokens}, '
            f'"total_tokens": {u.total_tokens}}}'
        )
    if metadata:
        body["trace_metadata"] = metadata
    if info.tags:
        body["tags"] = dict(info.tags)
    if info.assessments:
        body["assessments"] = [assessment(a) for a in info.assessments]
    return body


def trace(t: Trace) -> Json:
    return {"trace_info": trace_info(t.info), "spans": [span(s) for s in t.spans]}


def _string_map(value: object, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise InvalidParameter(f"{what} must be an object of string values")
    return dict(value)


def parse_trace_info(data: Mapping[str, Any]) -> TraceInfo:
    """A TraceInfoV3 in proto JSON (StartTraceV3's body, or a server's answer).

    Raises:
        InvalidParameter: a missing id or location, or a field of the wrong type.
    """
    trace_id = data.get("trace_id")
    if not isinstance(trace_id, str) or not trace_id:
        raise InvalidParameter("Missing value for required parameter 'trace_info.trace_id'")
    location = data.get("trace_location") or {}
    experiment = location.get("mlflow_experiment") if isinstance(location, Mapping) else None
    experiment_id = experiment.get("experiment_id") if isinstance(experiment, Mapping) else None
    if not isinstance(experiment_id, str) or not experiment_id:
        raise InvalidParameter(
            "trace_info.trace_location must name an MLflow experiment "
            "({'type': 'MLFLOW_EXPERIMENT', 'mlflow_experiment': {'experiment_id': ...}})"
        )
    state = data.get("state") or "STATE_UNSPECIFIED"
    if state not in TraceState.__members__:
        raise InvalidParameter(
            f"trace_info.state must be one of {', '.join(TraceState)}, got {state!r}"
        )
    for name in ("request_preview", "response_preview", "client_request_id"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise InvalidParameter(f"trace_info.{name} must be a string")
    metadata = _string_map(data.get("trace_metadata"), "trace_info.trace_metadata")
    raw_time = data.get("request_time")
    raw_duration = data.get("execution_duration")
    return TraceInfo(
        trace_id=trace_id,
        experiment_id=experiment_id,
        request_time=0
        if raw_time is None
        else parse_timestamp(raw_time, "trace_info.request_time"),
        execution_duration=None
        if raw_duration is None
        else parse_duration(raw_duration, "trace_info.execution_duration"),
        state=TraceState(state),
        request_preview=data.get("request_preview"),
        response_preview=data.get("response_preview"),
        client_request_id=data.get("client_request_id"),
        trace_metadata=metadata,
        tags=_string_map(data.get("tags"), "trace_info.tags"),
        assessments=[parse_assessment(a) for a in data.get("assessments") or ()],
        token_usage=_token_usage(metadata.get(TOKEN_USAGE_METADATA)),
    )


def _token_usage(text: str | None) -> TokenUsage | None:
    if not text:
        return None
    try:
        usage = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(usage, dict):
        return None
    numbers = {k: usage.get(k) for k in ("input_tokens", "output_tokens", "total_tokens")}
    if not all(isinstance(n, int) for n in numbers.values() if n is not None):
        return None
    return TokenUsage(**{k: n or 0 for k, n in numbers.items()})


# -- assessments -----------------------------------------------------------------------------

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
        metadata=_string_map(data.get("metadata"), "assessment.metadata"),
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
