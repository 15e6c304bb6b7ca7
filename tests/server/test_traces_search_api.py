"""Heron's own trace search (GET /api/2.0/heron/traces/search) over real HTTP: a page of traces
with their spans in one answer, the same filter grammar and keyset pages as MLflow's search,
and bad input answered with INVALID_PARAMETER_VALUE."""

from __future__ import annotations

import uuid

import httpx
import pytest

from heron.client.http.traces import otlp_body
from heron.entities.trace import Span, SpanEvent, SpanStatusCode

SEARCH = "/api/2.0/heron/traces/search"


def _trace(n: int) -> list[Span]:
    trace_id = "tr-" + uuid.uuid4().hex
    root, child = uuid.uuid4().hex[:16], uuid.uuid4().hex[:16]
    start = 1_700_000_000_000_000_000 + n * 1_000_000_000
    return [
        Span(
            trace_id=trace_id, span_id=root, parent_span_id=None, name="agent",
            span_type="AGENT", status=SpanStatusCode.OK, start_time_ns=start,
            end_time_ns=start + n * 10_000_000, inputs={"question": f"q{n}"}, outputs=f"a{n}",
        ),
        Span(
            trace_id=trace_id, span_id=child, parent_span_id=root, name="llm", span_type="LLM",
            status=SpanStatusCode.ERROR, status_message="kaput", start_time_ns=start + 1,
            end_time_ns=start + 2, attributes={"temperature": 0.25, "n": n},
            events=[SpanEvent(name="exception", time_unix_nano=start + 1,
                              attributes={"exception.message": "kaput"})],
        ),
    ]  # fmt: skip


@pytest.fixture
def exp(http: httpx.Client) -> str:
    created = http.post(
        "/api/2.0/mlflow/experiments/create", json={"name": f"hs-{uuid.uuid4().hex[:6]}"}
    )
    experiment_id = str(created.json()["experiment_id"])
    spans = [s for n in range(1, 6) for s in _trace(n)]
    sent = http.post(
        "/v1/traces",
        content=otlp_body(spans),
        headers={"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id},
    )
    assert sent.status_code == 200, sent.text
    return experiment_id


def test_search_answers_traces_with_their_spans(http: httpx.Client, exp: str) -> None:
    body = {"experiment_ids": [exp], "filter": "execution_time_ms > 25", "max_results": 2}
    first = http.get(SEARCH, params=body)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [t["execution_duration"] for t in page["traces"]] == [50, 40]  # newest first
    trace = page["traces"][0]
    assert trace["state"] == "OK"
    assert trace["tags"]["mlflow.traceName"] == "agent"
    root, child = trace["spans"]
    assert root["inputs"] == {"question": "q5"}
    assert root["outputs"] == "a5"
    assert child["parent_span_id"] == root["span_id"]
    assert (child["status"], child["status_message"]) == ("ERROR", "kaput")
    assert child["attributes"] == {"temperature": 0.25, "n": 5}
    assert child["events"][0]["attributes"] == {"exception.message": "kaput"}

    rest = http.get(SEARCH, params={**body, "page_token": page["next_page_token"]}).json()
    assert [t["execution_duration"] for t in rest["traces"]] == [30]
    assert "next_page_token" not in rest


def test_search_without_spans_answers_infos_only(http: httpx.Client, exp: str) -> None:
    answer = http.get(SEARCH, params={"experiment_ids": [exp], "include_spans": False}).json()
    assert len(answer["traces"]) == 5
    assert all("spans" not in t for t in answer["traces"])


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"filter": "params.x = '1'"}, "params"),
        ({"order_by": ["tags.x"]}, "tags.x"),
        ({"max_results": 501}, "max_results"),
        ({"page_token": "garbage"}, "token"),
        ({"include_spans": "yes"}, "include_spans"),
        ({"max_results": "many"}, "max_results"),
    ],
    ids=["bad-filter", "bad-order", "too-many", "bad-token", "bad-flag", "bad-number"],
)
def test_search_rejects_bad_input(http: httpx.Client, exp: str, body: dict, says: str) -> None:
    answer = http.get(SEARCH, params={"experiment_ids": [exp], **body})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert says in answer.json()["message"]


def test_search_needs_an_experiment(http: httpx.Client) -> None:
    answer = http.get(SEARCH, params={"filter": "trace.status = 'OK'"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "experiment" in answer.json()["message"]
