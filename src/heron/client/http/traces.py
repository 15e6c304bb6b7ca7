"""Traces over HTTP: spans go to /v1/traces as OTLP protobuf (many traces in one request),
searches to Heron's /api/2.0/heron/traces/search (a page with its spans in one request),
everything else through MLflow's trace and assessment routes."""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from heron.client.http.transport import Transport
from heron.entities import Page
from heron.entities.assessment import Assessment
from heron.entities.trace import Span, SpanStatusCode, Trace, TraceInfo
from heron.errors import HeronError
from heron.mlflow_json import assessments as aj
from heron.mlflow_json import traces as tj
from heron.mlflow_json import traces_compact as tc
from heron.mlflow_json.proto import field_mask

V3 = "/api/3.0/mlflow/traces"
V2 = "/api/2.0/mlflow/traces"
HERON_API = "/api/2.0/heron"
_STATUS = {
    SpanStatusCode.UNSET: Status.STATUS_CODE_UNSET,
    SpanStatusCode.OK: Status.STATUS_CODE_OK,
    SpanStatusCode.ERROR: Status.STATUS_CODE_ERROR,
}


def set_value(target: AnyValue, value: Any) -> None:
    """Writes a Python JSON value into an OTel AnyValue."""
    if value is None:
        return
    if isinstance(value, bool):
        target.bool_value = value
    elif isinstance(value, int) and -(2**63) <= value < 2**63:
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, str):
        target.string_value = value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            kv = target.kvlist_value.values.add()
            kv.key = str(k)
            set_value(kv.value, v)
    elif isinstance(value, list | tuple):
        array = target.array_value
        array.SetInParent()
        for v in value:
            set_value(array.values.add(), v)
    else:
        target.string_value = str(value)


def _fill(proto: ProtoSpan, span: Span) -> None:
    proto.trace_id = bytes.fromhex(tj.otel_trace_hex(span.trace_id))
    proto.span_id = bytes.fromhex(span.span_id)
    if span.parent_span_id:
        proto.parent_span_id = bytes.fromhex(span.parent_span_id)
    proto.name = span.name
    proto.start_time_unix_nano = span.start_time_ns
    if span.end_time_ns is not None:
        proto.end_time_unix_nano = span.end_time_ns
    proto.status.code = _STATUS[span.status]
    if span.status_message:
        proto.status.message = span.status_message
    for key, value in tj.mlflow_attributes(span).items():
        attr = proto.attributes.add()
        attr.key = key
        set_value(attr.value, value)
    for event in span.events:
        e = proto.events.add()
        e.name = event.name
        e.time_unix_nano = event.time_unix_nano
        for key, value in event.attributes.items():
            attr = e.attributes.add()
            attr.key = key
            set_value(attr.value, value)


def otlp_body(spans: Sequence[Span]) -> bytes:
    """An OTLP ExportTraceServiceRequest holding `spans`, serialized."""
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    scope.scope.name = "heron"
    for span in spans:
        _fill(scope.spans.add(), span)
    return bytes(request.SerializeToString())


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


class HttpTraces:
    """The `TraceApi` methods over a transport (`heron.client.http.transport.Transport`)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport
        self._heron_search = True  # until a server answers that it has no such route

    def log_spans(self, experiment_id: str, spans: Sequence[Span]) -> int:
        headers = {
            "Content-Type": "application/x-protobuf",
            "x-mlflow-experiment-id": experiment_id,
        }
        self._t.send_bytes("/v1/traces", otlp_body(spans), headers)
        return len({s.trace_id for s in spans})

    def start_trace(self, info: TraceInfo) -> TraceInfo:
        body = {"trace": {"trace_info": tj.trace_info(info)}}
        return tj.parse_trace_info(self._t.post(V3, body)["trace"]["trace_info"])

    def get_trace_info(self, trace_id: str) -> TraceInfo:
        return tj.parse_trace_info(self._t.get(f"{V3}/{_q(trace_id)}", {})["trace"]["trace_info"])

    def get_trace(self, trace_id: str) -> Trace:
        return _trace(self._t.get(f"{V3}/get", {"trace_id": trace_id})["trace"])

    def get_traces(self, trace_ids: Sequence[str], *, with_spans: bool = True) -> list[Trace]:
        found: list[Trace] = []
        for start in range(0, len(trace_ids), 100):
            chunk = list(trace_ids[start : start + 100])
            if with_spans:
                body = self._t.get(f"{V3}/batchGet", {"trace_ids": chunk})
                found += [_trace(t) for t in body.get("traces", [])]
            else:
                body = self._t.post(f"{V3}/batchGetInfos", {"trace_ids": chunk})
                found += [Trace(info=tj.parse_trace_info(i)) for i in body.get("trace_infos", [])]
        return found

    def search_full_traces(
        self,
        experiment_ids: Sequence[str],
        *,
        filter_string: str | None = None,
        order_by: Sequence[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        include_spans: bool = True,
    ) -> Page[Trace]:
        query = {
            "experiment_ids": list(experiment_ids),
            "filter": filter_string,
            "order_by": list(order_by or ()),
            "max_results": max_results,
            "page_token": page_token,
            "include_spans": "true" if include_spans else "false",
        }
        if self._heron_search:
            try:
                answer = self._t.get(f"{HERON_API}/traces/search", query)
            except HeronError as exc:
                if exc.code != "ENDPOINT_NOT_FOUND":
                    raise
                self._heron_search = False  # an MLflow server: its own search, then batchGet
            else:
                traces = [tc.parse_trace(t) for t in answer.get("traces", ())]
                return Page(traces, answer.get("next_page_token"))
        return self._search_v3(query, include_spans=include_spans)

    def _search_v3(self, query: Mapping[str, Any], *, include_spans: bool) -> Page[Trace]:
        body = {
            "locations": [
                {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": e}}
                for e in query["experiment_ids"]
            ],
            "filter": query["filter"],
            "order_by": query["order_by"],
            "max_results": query["max_results"],
            "page_token": query["page_token"],
        }
        answer = self._t.post(f"{V3}/search", {k: v for k, v in body.items() if v is not None})
        infos = [tj.parse_trace_info(i) for i in answer.get("traces", ())]
        if include_spans and infos:
            found = {t.info.trace_id: t for t in self.get_traces([i.trace_id for i in infos])}
            traces = [found.get(i.trace_id, Trace(info=i)) for i in infos]
        else:
            traces = [Trace(info=i) for i in infos]
        return Page(traces, answer.get("next_page_token") or None)

    def set_trace_tag(self, trace_id: str, key: str, value: str) -> None:
        self._t.send_json("PATCH", f"{V2}/{_q(trace_id)}/tags", {"key": key, "value": value})

    def delete_trace_tag(self, trace_id: str, key: str) -> None:
        self._t.send_json("DELETE", f"{V2}/{_q(trace_id)}/tags", {"key": key})

    def delete_traces(
        self,
        experiment_id: str,
        *,
        trace_ids: Sequence[str] = (),
        max_timestamp_millis: int | None = None,
        max_traces: int | None = None,
    ) -> int:
        body = {
            "experiment_id": experiment_id,
            "request_ids": list(trace_ids) or None,
            "max_timestamp_millis": max_timestamp_millis,
            "max_traces": max_traces,
        }
        return int(self._t.post(f"{V2}/delete-traces", body).get("traces_deleted", 0))

    def create_assessment(self, assessment: Assessment) -> Assessment:
        body = aj.assessment(assessment)
        body.pop("assessment_id", None)
        answer = self._t.post(f"{V3}/{_q(assessment.trace_id)}/assessments", {"assessment": body})
        return aj.parse_assessment(answer["assessment"])

    def get_assessment(self, trace_id: str, assessment_id: str) -> Assessment:
        path = f"{V3}/{_q(trace_id)}/assessments/{_q(assessment_id)}"
        return aj.parse_assessment(self._t.get(path, {})["assessment"])

    def update_assessment(
        self, trace_id: str, assessment_id: str, changes: Mapping[str, Any]
    ) -> Assessment:
        current = self.get_assessment(trace_id, assessment_id)
        kind = "feedback" if current.kind.value == "feedback" else "expectation"
        body: dict[str, Any] = {"assessment_id": assessment_id, "trace_id": trace_id}
        paths = []
        if "name" in changes:
            body["assessment_name"] = changes["name"]
            paths.append("assessment_name")
        if "value" in changes:
            body[kind] = {"value": changes["value"]}
            paths.append(kind)
        for field in ("rationale", "metadata"):
            if field in changes:
                body[field] = changes[field]
                paths.append(field)
        path = f"{V3}/{_q(trace_id)}/assessments/{_q(assessment_id)}"
        answer = self._t.send_json(
            "PATCH", path, {"assessment": body, "update_mask": field_mask(paths)}
        )
        return aj.parse_assessment(answer["assessment"])

    def delete_assessment(self, trace_id: str, assessment_id: str) -> None:
        path = f"{V3}/{_q(trace_id)}/assessments/{_q(assessment_id)}"
        self._t.send_json("DELETE", path, {})


def _trace(data: Mapping[str, Any]) -> Trace:
    info = tj.parse_trace_info(data["trace_info"])
    return Trace(info=info, spans=[tj.parse_span(s, info.trace_id) for s in data.get("spans", [])])
