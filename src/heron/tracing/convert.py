"""OpenTelemetry SDK spans (ReadableSpan) to Heron spans, as the exporter sends them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import StatusCode

from heron.entities.trace import TRACE_ID_PREFIX, Span, SpanEvent, SpanStatusCode
from heron.mlflow_json.traces import split_attributes

_STATUS = {
    StatusCode.UNSET: SpanStatusCode.UNSET,
    StatusCode.OK: SpanStatusCode.OK,
    StatusCode.ERROR: SpanStatusCode.ERROR,
}
JSON_PREFIX = "\x00json:"  # how a structured value travels inside an OTel string attribute


def encode(value: Any) -> Any:
    """A value as an OTel attribute: primitives as they are, the rest as tagged JSON text."""
    if isinstance(value, str | bool | int | float):
        return value
    try:
        return (
            JSON_PREFIX + orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
        )
    except TypeError:
        return str(value)


def decode(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(JSON_PREFIX):
        return orjson.loads(value[len(JSON_PREFIX) :])
    if isinstance(value, tuple):
        return list(value)
    return value


def trace_id_of(otel_trace_id: int) -> str:
    return f"{TRACE_ID_PREFIX}{otel_trace_id:032x}"


def heron_span(span: ReadableSpan, extra: Mapping[str, Any] | None = None) -> Span:
    """The span with its attributes decoded; `extra` attributes are added (trace tags)."""
    context = span.context
    assert context is not None  # noqa: S101 (a recording SDK span always has one)
    attributes = {k: decode(v) for k, v in (span.attributes or {}).items()}
    if extra:
        attributes.update(extra)
    span_type, inputs, outputs = split_attributes(attributes)
    status = span.status
    return Span(
        trace_id=trace_id_of(context.trace_id),
        span_id=f"{context.span_id:016x}",
        parent_span_id=f"{span.parent.span_id:016x}" if span.parent is not None else None,
        name=span.name,
        span_type=span_type,
        status=_STATUS.get(status.status_code, SpanStatusCode.UNSET),
        status_message=status.description or "",
        start_time_ns=span.start_time or 0,
        end_time_ns=span.end_time,
        inputs=inputs,
        outputs=outputs,
        attributes=attributes,
        events=[
            SpanEvent(
                name=e.name,
                time_unix_nano=e.timestamp,
                attributes={k: decode(v) for k, v in (e.attributes or {}).items()},
            )
            for e in span.events
        ],
    )
