"""OTLP/HTTP trace ingestion at POST /v1/traces: protobuf or JSON, optionally gzip/deflate.

Any OpenTelemetry exporter can send here; the experiment comes from the `x-mlflow-experiment-id`
header (as with MLflow). Malformed input is a 400 with a message that says what is wrong,
never a 500."""

from __future__ import annotations

import base64
import zlib
from typing import Any

from google.protobuf.json_format import ParseDict
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from heron.entities.trace import TRACE_ID_PREFIX, Span, SpanEvent, SpanStatusCode
from heron.errors import InvalidParameter
from heron.mlflow_json.traces import split_attributes
from heron.server.wire import EXACT_FLOAT_INT, parse_json_object, read_body
from heron.services.access import requires
from heron.services.traces import TraceService
from heron.web.routes import PolicyRoute

EXPERIMENT_HEADER = "x-mlflow-experiment-id"
_PROTOBUF = "application/x-protobuf"
_STATUS = {0: SpanStatusCode.UNSET, 1: SpanStatusCode.OK, 2: SpanStatusCode.ERROR}
_EMPTY_RESPONSE = ExportTraceServiceResponse().SerializeToString()


def decode_value(value: AnyValue) -> Any:
    """An OTel AnyValue as a Python JSON value (bytes become base64 text)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [decode_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: decode_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode("ascii")
    return getattr(value, kind)


def _hex_id(raw: bytes, size: int, what: str) -> str:
    if len(raw) != size:
        raise InvalidParameter(f"Every span needs a {what} of {size} bytes, got {len(raw)}")
    return raw.hex()


def spans_of(request: ExportTraceServiceRequest) -> list[Span]:
    """The request's spans as Heron spans (MLflow's span type, inputs and outputs lifted out of
    the attributes)."""
    found = []
    for resource_spans in request.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for s in scope_spans.spans:
                attributes = {kv.key: decode_value(kv.value) for kv in s.attributes}
                span_type, inputs, outputs = split_attributes(attributes)
                found.append(
                    Span(
                        trace_id=TRACE_ID_PREFIX + _hex_id(s.trace_id, 16, "trace_id"),
                        span_id=_hex_id(s.span_id, 8, "span_id"),
                        parent_span_id=s.parent_span_id.hex() if s.parent_span_id else None,
                        name=s.name,
                        span_type=span_type,
                        status=_STATUS.get(s.status.code, SpanStatusCode.UNSET),
                        status_message=s.status.message,
                        start_time_ns=s.start_time_unix_nano,
                        end_time_ns=s.end_time_unix_nano or None,
                        inputs=inputs,
                        outputs=outputs,
                        attributes=attributes,
                        events=[
                            SpanEvent(
                                name=e.name,
                                time_unix_nano=e.time_unix_nano,
                                attributes={kv.key: decode_value(kv.value) for kv in e.attributes},
                            )
                            for e in s.events
                        ],
                    )
                )
    return found


def _inflate(body: bytes, encoding: str | None, limit: int) -> bytes:
    if not encoding or encoding.lower() == "identity":
        return body
    kind = encoding.lower()
    if kind not in ("gzip", "deflate"):
        raise InvalidParameter(
            f"Content-Encoding {encoding!r} is not supported; use gzip or deflate"
        )
    inflater = zlib.decompressobj(wbits=31 if kind == "gzip" else 15)
    try:
        out = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise InvalidParameter(f"The {kind} body could not be decompressed: {exc}") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise InvalidParameter(
            f"The decompressed body is larger than the server's limit of {limit} bytes"
        )
    return out


def _prepare_json(node: Any) -> None:
    """Makes OTLP JSON what protobuf's JSON parser reads: ids from hex to base64 bytes, and
    integer fields checked to be exact. The JSON reader gives a float for an integer literal
    outside 64 bits, and protobuf would round such a float into range: refused instead."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str) and value:
                try:
                    node[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
                except ValueError:
                    raise InvalidParameter(f"{key} {value!r} is not hexadecimal") from None
            elif isinstance(value, float) and _is_integer_field(key):
                _check_exact(key, value)
            else:
                _prepare_json(value)
    elif isinstance(node, list):
        for item in node:
            _prepare_json(item)


def _is_integer_field(key: str) -> bool:
    return key in _INTEGER_KEYS or key.endswith(("UnixNano", "_unix_nano", "Count", "_count"))


def _check_exact(key: str, value: float) -> None:
    if not value.is_integer() or abs(value) >= EXACT_FLOAT_INT:
        raise InvalidParameter(
            f"{key} must be an integer that fits in 64 bits (OTLP JSON writes these as "
            f"strings of digits), got {value!r}, which cannot be read exactly"
        )


_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
_INTEGER_KEYS = frozenset({"intValue", "int_value", "flags"})


def parse_request(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    """Raises InvalidParameter for a body that is not an OTLP trace export."""
    message = ExportTraceServiceRequest()
    if content_type == _PROTOBUF:
        try:
            message.ParseFromString(body)
        except (DecodeError, ValueError, RuntimeError) as exc:
            raise InvalidParameter(
                f"The body is not an OTLP ExportTraceServiceRequest: {exc}"
            ) from None
        return message
    if content_type == "application/json":
        data = parse_json_object(body)
        _prepare_json(data)
        try:
            ParseDict(data, message, ignore_unknown_fields=True)
        except Exception as exc:  # protobuf's ParseError and the type errors under it
            raise InvalidParameter(f"The body is not OTLP JSON: {exc}") from None
        return message
    raise InvalidParameter(
        f"Content-Type must be {_PROTOBUF} or application/json, got {content_type or 'none'!r}"
    )


def routes(service: TraceService, *, max_request_bytes: int, inline: bool) -> list[PolicyRoute]:
    async def export_traces(request: Request) -> Response:
        experiment_id = request.headers.get(EXPERIMENT_HEADER)
        if not experiment_id:
            raise InvalidParameter(
                f"Send the experiment to log the traces to in the {EXPERIMENT_HEADER} header"
            )
        content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        try:
            raw = await read_body(request.scope, request.receive, max_request_bytes)
        except ClientDisconnect:
            return Response(status_code=400)
        body = _inflate(raw, request.headers.get("content-encoding"), max_request_bytes)
        message = parse_request(body, content_type)
        try:
            spans = spans_of(message)
        except (ValueError, TypeError) as exc:
            raise InvalidParameter(f"A span could not be read: {exc}") from None
        if inline:
            service.log_spans(experiment_id, spans)
        else:
            await run_in_threadpool(service.log_spans, experiment_id, spans)
        if content_type == "application/json":
            return Response(b"{}", media_type="application/json")
        return Response(_EMPTY_RESPONSE, media_type=_PROTOBUF)

    # The experiment comes in the x-mlflow-experiment-id header.
    logs = requires("update", "experiment", EXPERIMENT_HEADER)
    return [PolicyRoute("/v1/traces", export_traces, methods=["POST"], policy=logs)]


__all__ = ["routes"]
