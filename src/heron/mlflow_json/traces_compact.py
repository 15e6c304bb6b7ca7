"""Traces in Heron's own JSON, both ways: the answer of /api/2.0/heron/traces/search, which
the SDK's search_traces reads. The entities' fields as they are (times as integers, inputs,
outputs and attributes as plain JSON), so neither side converts RFC 3339 timestamps, base64
ids or OTel AnyValues: a page of 100 traces with 1,000 spans is read in a few milliseconds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from heron.entities.trace import (
    Span,
    SpanEvent,
    SpanStatusCode,
    TokenUsage,
    Trace,
    TraceInfo,
    TraceState,
)
from heron.mlflow_json.assessments import assessment, parse_assessment
from heron.mlflow_json.proto import Json

_STATUS = {s.value: s for s in SpanStatusCode}
_STATE = {s.value: s for s in TraceState}


def span(s: Span) -> Json:
    body: Json = {
        "span_id": s.span_id,
        "name": s.name,
        "span_type": s.span_type,
        "status": s.status.value,
        "start_time_ns": s.start_time_ns,
    }
    if s.parent_span_id:
        body["parent_span_id"] = s.parent_span_id
    if s.status_message:
        body["status_message"] = s.status_message
    if s.end_time_ns is not None:
        body["end_time_ns"] = s.end_time_ns
    if s.inputs is not None:
        body["inputs"] = s.inputs
    if s.outputs is not None:
        body["outputs"] = s.outputs
    if s.attributes:
        body["attributes"] = s.attributes
    if s.events:
        body["events"] = [
            {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": e.attributes}
            for e in s.events
        ]
    return body


def trace(t: Trace) -> Json:
    """A trace's info, and its spans when it has any."""
    info = t.info
    body: Json = {
        "trace_id": info.trace_id,
        "experiment_id": info.experiment_id,
        "request_time": info.request_time,
        "state": info.state.value,
    }
    optional = {
        "execution_duration": info.execution_duration,
        "request_preview": info.request_preview,
        "response_preview": info.response_preview,
        "client_request_id": info.client_request_id,
    }
    body.update((k, v) for k, v in optional.items() if v is not None)
    if info.trace_metadata:
        body["trace_metadata"] = info.trace_metadata
    if info.tags:
        body["tags"] = info.tags
    if info.assessments:
        body["assessments"] = [assessment(a) for a in info.assessments]
    if info.token_usage is not None:
        u = info.token_usage
        body["token_usage"] = [u.input_tokens, u.output_tokens, u.total_tokens]
    if t.spans:
        body["spans"] = [span(s) for s in t.spans]
    return body


def parse_span(data: Mapping[str, Any], trace_id: str) -> Span:
    return Span(
        trace_id=trace_id,
        span_id=data["span_id"],
        parent_span_id=data.get("parent_span_id"),
        name=data["name"],
        span_type=data["span_type"],
        status=_STATUS.get(data["status"], SpanStatusCode.UNSET),
        status_message=data.get("status_message", ""),
        start_time_ns=data["start_time_ns"],
        end_time_ns=data.get("end_time_ns"),
        inputs=data.get("inputs"),
        outputs=data.get("outputs"),
        attributes=data.get("attributes") or {},
        events=[
            SpanEvent(
                name=e["name"], time_unix_nano=e["time_unix_nano"], attributes=e["attributes"]
            )
            for e in data.get("events", ())
        ],
    )


def parse_trace(data: Mapping[str, Any]) -> Trace:
    """A trace as `trace` wrote it."""
    trace_id = data["trace_id"]
    usage = data.get("token_usage")
    info = TraceInfo(
        trace_id=trace_id,
        experiment_id=data["experiment_id"],
        request_time=data["request_time"],
        execution_duration=data.get("execution_duration"),
        state=_STATE.get(data["state"], TraceState.STATE_UNSPECIFIED),
        request_preview=data.get("request_preview"),
        response_preview=data.get("response_preview"),
        client_request_id=data.get("client_request_id"),
        trace_metadata=data.get("trace_metadata") or {},
        tags=data.get("tags") or {},
        assessments=[parse_assessment(a) for a in data.get("assessments", ())],
        token_usage=None if usage is None else TokenUsage(
            input_tokens=usage[0], output_tokens=usage[1], total_tokens=usage[2]
        ),
    )  # fmt: skip
    return Trace(info=info, spans=[parse_span(s, trace_id) for s in data.get("spans", ())])
