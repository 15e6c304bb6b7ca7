"""OTLP/HTTP ingestion at /v1/traces over real HTTP: protobuf, JSON and gzip bodies, the
experiment header, and malformed input answered with 400 (never 500)."""

from __future__ import annotations

import gzip
import uuid
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Status

PROTOBUF = {"Content-Type": "application/x-protobuf"}
TOKEN_USAGE = "mlflow.trace.tokenUsage"  # noqa: S105 (not a secret)


@pytest.fixture
def http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30) as client:
        yield client


@pytest.fixture
def exp(http: httpx.Client) -> str:
    created = http.post(
        "/api/2.0/mlflow/experiments/create", json={"name": f"otlp-{uuid.uuid4().hex[:6]}"}
    )
    return str(created.json()["experiment_id"])


def export_request(trace_hex: str, *, error: bool = False) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    scope = request.resource_spans.add().scope_spans.add()
    root = scope.spans.add()
    root.trace_id = bytes.fromhex(trace_hex)
    root.span_id = bytes.fromhex("00000000000000a1")
    root.name = "agent"
    root.start_time_unix_nano = 1_700_000_000_000_000_000
    root.end_time_unix_nano = 1_700_000_000_250_000_000
    root.status.code = Status.STATUS_CODE_ERROR if error else Status.STATUS_CODE_OK
    attr = root.attributes.add()
    attr.key = "mlflow.spanInputs"
    kv = attr.value.kvlist_value.values.add()
    kv.key, kv.value.string_value = "question", "why?"
    attr = root.attributes.add()
    attr.key, attr.value.string_value = "mlflow.spanType", "AGENT"
    child = scope.spans.add()
    child.trace_id = bytes.fromhex(trace_hex)
    child.span_id = bytes.fromhex("00000000000000b2")
    child.parent_span_id = root.span_id
    child.name = "llm"
    child.start_time_unix_nano = root.start_time_unix_nano + 1000
    child.end_time_unix_nano = root.end_time_unix_nano - 1000
    attr = child.attributes.add()
    attr.key, attr.value.double_value = "temperature", 0.25
    event = child.events.add()
    event.name, event.time_unix_nano = "exception", child.start_time_unix_nano + 5
    event_attr = event.attributes.add()
    event_attr.key, event_attr.value.string_value = "exception.message", "kaput"
    return request


def get_trace(http: httpx.Client, trace_hex: str) -> dict:
    answer = http.get("/api/3.0/mlflow/traces/get", params={"trace_id": f"tr-{trace_hex}"})
    assert answer.status_code == 200, answer.text
    return answer.json()["trace"]


def test_protobuf_export_is_stored_and_read_back_as_mlflow_json(
    http: httpx.Client, exp: str
) -> None:
    trace_hex = uuid.uuid4().hex
    body = export_request(trace_hex).SerializeToString()
    answer = http.post(
        "/v1/traces", content=body, headers={**PROTOBUF, "x-mlflow-experiment-id": exp}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-protobuf"
    trace = get_trace(http, trace_hex)
    info = trace["trace_info"]
    assert info["state"] == "OK"
    assert info["execution_duration"] == "0.250s"
    assert info["tags"]["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert info["trace_location"]["mlflow_experiment"]["experiment_id"] == exp
    spans = {s["name"]: s for s in trace["spans"]}
    assert "parent_span_id" not in spans["agent"]
    assert spans["llm"]["parent_span_id"] == spans["agent"]["span_id"]
    root_attributes = {a["key"]: a["value"] for a in spans["agent"]["attributes"]}
    assert root_attributes["mlflow.spanType"] == {"string_value": "AGENT"}
    assert root_attributes["mlflow.spanInputs"] == {
        "kvlist_value": {"values": [{"key": "question", "value": {"string_value": "why?"}}]}
    }
    assert spans["llm"]["events"][0]["attributes"] == [
        {"key": "exception.message", "value": {"string_value": "kaput"}}
    ]


def test_json_and_gzip_bodies(http: httpx.Client, exp: str) -> None:
    trace_hex = uuid.uuid4().hex
    span_hex = "00000000000000c3"
    payload = {
        "resourceSpans": [{"scopeSpans": [{"spans": [{
            "traceId": trace_hex, "spanId": span_hex, "name": "json-span",
            "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": "1700000000100000000",
            "status": {"code": 2, "message": "bad"},
            "attributes": [{"key": "n", "value": {"intValue": "3"}}],
        }]}]}]
    }  # fmt: skip
    answer = http.post("/v1/traces", json=payload, headers={"x-mlflow-experiment-id": exp})
    assert answer.status_code == 200, answer.text
    trace = get_trace(http, trace_hex)
    assert trace["trace_info"]["state"] == "ERROR"
    (span,) = trace["spans"]
    assert {"key": "n", "value": {"int_value": 3}} in span["attributes"]

    zipped_hex = uuid.uuid4().hex
    body = gzip.compress(export_request(zipped_hex, error=True).SerializeToString())
    answer = http.post(
        "/v1/traces",
        content=body,
        headers={**PROTOBUF, "Content-Encoding": "gzip", "x-mlflow-experiment-id": exp},
    )
    assert answer.status_code == 200
    assert get_trace(http, zipped_hex)["trace_info"]["state"] == "ERROR"


@pytest.mark.parametrize(
    ("headers", "body", "message"),
    [
        ({**PROTOBUF}, b"", "x-mlflow-experiment-id"),
        ({**PROTOBUF, "x-mlflow-experiment-id": "EXP"}, b"\xff\xff\xff", "OTLP"),
        ({"Content-Type": "text/plain", "x-mlflow-experiment-id": "EXP"}, b"x", "Content-Type"),
        ({"Content-Type": "application/json", "x-mlflow-experiment-id": "EXP"}, b"{", "JSON"),
        ({**PROTOBUF, "x-mlflow-experiment-id": "EXP"}, b"", "No spans"),
        (
            {**PROTOBUF, "Content-Encoding": "gzip", "x-mlflow-experiment-id": "EXP"},
            b"not gzip",
            "decompressed",
        ),
        ({**PROTOBUF, "Content-Encoding": "br", "x-mlflow-experiment-id": "EXP"}, b"", "gzip"),
    ],
    ids=["no-experiment", "garbage", "content-type", "bad-json", "no-spans", "bad-gzip", "br"],
)
def test_malformed_exports_are_400(
    http: httpx.Client, exp: str, headers: dict[str, str], body: bytes, message: str
) -> None:
    headers = {k: v.replace("EXP", exp) for k, v in headers.items()}
    answer = http.post("/v1/traces", content=body, headers=headers)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert message in answer.json()["message"]


def test_short_ids_and_unknown_experiment(http: httpx.Client, exp: str) -> None:
    request = export_request(uuid.uuid4().hex)
    request.resource_spans[0].scope_spans[0].spans[0].span_id = b"\x01"
    answer = http.post(
        "/v1/traces",
        content=request.SerializeToString(),
        headers={**PROTOBUF, "x-mlflow-experiment-id": exp},
    )
    assert answer.status_code == 400
    assert "span_id" in answer.json()["message"]
    answer = http.post(
        "/v1/traces",
        content=export_request(uuid.uuid4().hex).SerializeToString(),
        headers={**PROTOBUF, "x-mlflow-experiment-id": "424242"},
    )
    assert answer.status_code == 404


def _json_span(trace_hex: str, span_hex: str, **fields: object) -> dict[str, object]:
    return {
        "traceId": trace_hex, "spanId": span_hex, "name": "s",
        "startTimeUnixNano": "1735689600000000000", "endTimeUnixNano": "1735689601000000000",
        **fields,
    }  # fmt: skip


def _search(http: httpx.Client, exp: str) -> list[dict]:
    location = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp}}
    found = http.post("/api/3.0/mlflow/traces/search", json={"locations": [location]})
    assert found.status_code == 200, found.text
    traces: list[dict] = found.json().get("traces", [])
    return traces


@pytest.mark.parametrize(
    "fields",
    [
        {"endTimeUnixNano": "18446744073709551615"},
        {"endTimeUnixNano": "9223372036854775808"},
        {"startTimeUnixNano": "18446744073709551615", "endTimeUnixNano": "18446744073709551615"},
        {"events": [{"name": "e", "timeUnixNano": "18446744073709551615"}]},
    ],
    ids=["end-uint64-max", "end-int64-max-plus-one", "start-uint64-max", "event-uint64-max"],
)
def test_times_past_int64_are_400_and_store_nothing(
    http: httpx.Client, exp: str, fields: dict[str, object]
) -> None:
    good_hex = uuid.uuid4().hex
    spans = [_json_span(good_hex, "00000000000000c3")]
    sent = http.post(
        "/v1/traces",
        json={"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]},
        headers={"x-mlflow-experiment-id": exp},
    )
    assert sent.status_code == 200, sent.text
    bad = [_json_span(uuid.uuid4().hex, "00000000000000c4", **fields)]
    answer = http.post(
        "/v1/traces",
        json={"resourceSpans": [{"scopeSpans": [{"spans": bad}]}]},
        headers={"x-mlflow-experiment-id": exp},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "time" in answer.json()["message"]
    assert [t["trace_id"] for t in _search(http, exp)] == [f"tr-{good_hex}"]


def test_token_counts_past_int64_are_not_summed(http: httpx.Client, exp: str) -> None:
    trace_hex = uuid.uuid4().hex
    usage = {"key": "mlflow.chat.tokenUsage", "value": {"kvlistValue": {"values": [
        {"key": "input_tokens", "value": {"intValue": str(2**63 - 1)}},
        {"key": "output_tokens", "value": {"intValue": str(2**63 - 1)}},
    ]}}}  # fmt: skip
    spans = [
        _json_span(trace_hex, "00000000000000a1"),
        _json_span(trace_hex, "00000000000000b2", parentSpanId="00000000000000a1",
                   attributes=[usage]),
        _json_span(trace_hex, "00000000000000b3", parentSpanId="00000000000000a1",
                   attributes=[usage]),
    ]  # fmt: skip
    answer = http.post(
        "/v1/traces",
        json={"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]},
        headers={"x-mlflow-experiment-id": exp},
    )
    assert answer.status_code == 200, answer.text
    trace = get_trace(http, trace_hex)
    assert len(trace["spans"]) == 3
    assert TOKEN_USAGE not in trace["trace_info"].get("trace_metadata", {})
    assert [t["trace_id"] for t in _search(http, exp)] == [f"tr-{trace_hex}"]
