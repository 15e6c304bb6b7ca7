"""Traces as MLflow's JSON messages (TraceInfoV3, otel.Span), both ways: what the server
answers and the client reads, and what the client sends.

Proto-JSON conventions: Timestamps are RFC 3339 strings, Durations "1.5s", span and trace ids
inside spans are base64 bytes, attribute values are OTel AnyValues."""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import Any

import orjson

from heron.entities import reserved
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
from heron.mlflow_json.assessments import assessment, parse_assessment
from heron.mlflow_json.proto import (
    Json,
    duration,
    from_any_value,
    key_values,
    parse_duration,
    parse_timestamp,
    shown,
    string_map,
    timestamp,
)

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
    attributes[reserved.TRACE_REQUEST_ID] = span.trace_id
    attributes[reserved.SPAN_TYPE] = span.span_type
    if span.inputs is not None:
        attributes[reserved.SPAN_INPUTS] = span.inputs
    if span.outputs is not None:
        attributes[reserved.SPAN_OUTPUTS] = span.outputs
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


def trace_data(t: Trace) -> Json:
    """The trace's spans as MLflow's TraceData JSON ({"spans": [...]}, what traces.json and the
    UI's get-trace-artifact hold): ids in base64, each attribute's value JSON-encoded text."""
    return {"spans": [_span_dict(s) for s in t.spans]}


def _span_dict(s: Span) -> Json:
    return {
        "trace_id": _b64(otel_trace_hex(s.trace_id)),
        "span_id": _b64(s.span_id),
        "parent_span_id": _b64(s.parent_span_id) if s.parent_span_id else None,
        "name": s.name,
        "start_time_unix_nano": s.start_time_ns,
        "end_time_unix_nano": s.end_time_ns,
        "events": [
            {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": dict(e.attributes)}
            for e in s.events
        ],
        "status": {"code": _STATUS_CODES[s.status], "message": s.status_message or ""},
        "attributes": {
            key: orjson.dumps(value).decode() for key, value in mlflow_attributes(s).items()
        },
        "links": [],
    }


def split_attributes(attributes: dict[str, Any]) -> tuple[str, Any, Any]:
    """Pops MLflow's span type, inputs and outputs (and the request id) from decoded attributes."""
    attributes.pop(reserved.TRACE_REQUEST_ID, None)
    span_type = attributes.pop(reserved.SPAN_TYPE, None)
    inputs = attributes.pop(reserved.SPAN_INPUTS, None)
    outputs = attributes.pop(reserved.SPAN_OUTPUTS, None)
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
    if info.token_usage is not None and reserved.TRACE_TOKEN_USAGE not in metadata:
        u = info.token_usage
        metadata[reserved.TRACE_TOKEN_USAGE] = (
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
    # A name, as MLflow's client sends it (protobuf would take the number too; Heron never has).
    if not isinstance(state, str) or state not in TraceState.__members__:
        raise InvalidParameter(
            f"trace_info.state must be one of {', '.join(TraceState)}, got {shown(state)}"
        )
    for name in ("request_preview", "response_preview", "client_request_id"):
        if data.get(name) is not None and not isinstance(data[name], str):
            raise InvalidParameter(f"trace_info.{name} must be a string")
    metadata = string_map(data.get("trace_metadata"), "trace_info.trace_metadata")
    assessments = data.get("assessments") or []
    if not isinstance(assessments, list):
        raise InvalidParameter("trace_info.assessments must be a list of assessments")
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
        tags=string_map(data.get("tags"), "trace_info.tags"),
        assessments=[parse_assessment(a) for a in assessments],
        token_usage=_token_usage(metadata.get(reserved.TRACE_TOKEN_USAGE)),
    )


def _token_usage(text: str | None) -> TokenUsage | None:
    """The counts in the `mlflow.trace.tokenUsage` metadata, or None when they are unusable.

    MLflow compat: MLflow keeps this metadata as text and never checks it, so neither does
    Heron refuse a trace for it: the text is stored and answered as sent. Only the trace's
    token counts (TraceInfo.token_usage) are left unset when a count is not a non-negative
    integer; TraceService.start_trace leaves them unset too when one does not fit in 64 bits."""
    if not text:
        return None
    try:
        usage = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(usage, dict):
        return None
    counts = {k: usage.get(k) for k in ("input_tokens", "output_tokens", "total_tokens")}
    if not all(n is None or _is_count(n) for n in counts.values()):
        return None
    inputs, outputs = counts["input_tokens"] or 0, counts["output_tokens"] or 0
    total = inputs + outputs if counts["total_tokens"] is None else counts["total_tokens"]
    return TokenUsage(input_tokens=inputs, output_tokens=outputs, total_tokens=total)


def _is_count(n: object) -> bool:
    return type(n) is int and n >= 0
