"""heron.openai.autolog() with the real `openai` client talking to a small OpenAI-compatible
server started by the test: chat completions, responses and embeddings, sync and async,
streamed and not; usage and cost on the spans; errors; undoing the patch."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.tracing import fake_openai

import heron
from heron import tracing
from heron.entities.trace import Span, SpanStatusCode, SpanType, Trace, TraceState

openai = pytest.importorskip("openai")

PRICES = {"gpt-4o-mini": (0.15, 0.60)}  # USD per million input / output tokens


@pytest.fixture(scope="module")
def openai_url(serve_app: Any) -> Iterator[str]:
    with serve_app(fake_openai.app()) as url:
        yield f"{url}/v1"


@pytest.fixture
def autolog(destination: str) -> Iterator[None]:
    heron.set_experiment(f"oa-{uuid.uuid4().hex[:8]}")
    heron.openai.autolog(prices=PRICES)
    yield
    heron.openai.autolog(disable=True)


@pytest.fixture
def oai(openai_url: str) -> Iterator[Any]:
    """The real `openai` client pointed at the fake server."""
    with openai.OpenAI(base_url=openai_url, api_key="test-key", max_retries=0) as client:
        yield client


def _async_client(url: str) -> Any:
    return openai.AsyncOpenAI(base_url=url, api_key="test-key", max_retries=0)


def _last_trace() -> Trace:
    trace_id = tracing.get_last_active_trace_id()
    assert trace_id is not None
    assert tracing.flush(timeout_s=30)
    return tracing.get_trace(trace_id)


def _only_span(trace: Trace) -> Span:
    assert len(trace.spans) == 1
    return trace.spans[0]


def _check_chat_span(span: Span) -> None:
    assert span.span_type == SpanType.CHAT_MODEL
    assert span.status == SpanStatusCode.OK
    assert span.inputs["messages"] == [{"role": "user", "content": "hi"}]
    assert span.inputs["model"] == "gpt-4o-mini"
    assert span.outputs["choices"][0]["message"]["content"] == "Hello, world"
    assert span.attributes["mlflow.llm.model"] == "gpt-4o-mini-2024-01-01"
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 12, "output_tokens": 5, "total_tokens": 17,
    }  # fmt: skip
    cost = span.attributes["mlflow.llm.cost"]
    assert cost["input_cost"] == pytest.approx(12 * 0.15e-6)
    assert cost["output_cost"] == pytest.approx(5 * 0.60e-6)
    assert cost["total_cost"] == pytest.approx(12 * 0.15e-6 + 5 * 0.60e-6)


MESSAGES = [{"role": "user", "content": "hi"}]


def test_chat_completion_is_a_chat_span_with_usage_and_cost(autolog: None, oai: Any) -> None:
    answer = oai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

    assert answer.choices[0].message.content == "Hello, world"  # the caller's answer untouched
    trace = _last_trace()
    _check_chat_span(_only_span(trace))
    assert trace.info.state == TraceState.OK
    assert trace.info.token_usage is not None
    assert trace.info.token_usage.total_tokens == 17


def test_streamed_chat_chunks_reach_the_caller_and_aggregate_into_the_span(
    autolog: None, oai: Any
) -> None:
    stream = oai.chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True,
        stream_options={"include_usage": True},
    )  # fmt: skip
    pieces = [c.choices[0].delta.content for c in stream if c.choices]

    assert "".join(p or "" for p in pieces) == "Hello, world"
    span = _only_span(_last_trace())
    _check_chat_span(span)
    assert span.outputs["choices"][0]["finish_reason"] == "stop"


def test_async_chat_plain_and_streamed(autolog: None, oai: Any, openai_url: str) -> None:
    async def main() -> str:
        client = _async_client(openai_url)
        await client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        stream = await client.chat.completions.create(
            model="gpt-4o-mini", messages=MESSAGES, stream=True,
            stream_options={"include_usage": True},
        )  # fmt: skip
        text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
        await client.close()
        return text

    with tracing.start_span("agent", span_type=SpanType.AGENT):
        assert asyncio.run(main()) == "Hello, world"
    trace = _last_trace()
    root = next(s for s in trace.spans if s.name == "agent")
    calls = [s for s in trace.spans if s.name == "AsyncCompletions"]
    assert len(calls) == 2
    for span in calls:
        assert span.parent_span_id == root.span_id  # nested under the caller's span
        _check_chat_span(span)
    assert trace.info.token_usage is not None
    assert trace.info.token_usage.total_tokens == 34  # both calls summed on the trace


def test_responses_plain_and_streamed(autolog: None, oai: Any) -> None:
    client = oai
    answer = client.responses.create(model="gpt-4o-mini", input="hi")
    assert answer.output_text == "Hello, world"
    span = _only_span(_last_trace())
    assert (span.name, span.span_type) == ("Responses", SpanType.CHAT_MODEL)
    assert span.inputs == {"model": "gpt-4o-mini", "input": "hi"}
    assert span.outputs["output"][0]["content"][0]["text"] == "Hello, world"
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 9, "output_tokens": 3, "total_tokens": 12,
    }  # fmt: skip

    deltas = [
        e.delta
        for e in client.responses.create(model="gpt-4o-mini", input="hi", stream=True)
        if e.type == "response.output_text.delta"
    ]
    assert "".join(deltas) == "Hello, world"
    span = _only_span(_last_trace())
    assert span.outputs["output"][0]["content"][0]["text"] == "Hello, world"
    assert span.attributes["mlflow.chat.tokenUsage"]["total_tokens"] == 12
    assert span.attributes["mlflow.llm.cost"]["output_cost"] == pytest.approx(3 * 0.60e-6)


def test_embeddings_sync_and_async(autolog: None, oai: Any, openai_url: str) -> None:
    answer = oai.embeddings.create(model="text-embedding-3-small", input=["ab", "abc"])
    assert [d.embedding[0] for d in answer.data] == [2.0, 3.0]
    span = _only_span(_last_trace())
    assert (span.name, span.span_type) == ("Embeddings", SpanType.EMBEDDING)
    assert span.inputs["input"] == ["ab", "abc"]
    assert [d["embedding"][0] for d in span.outputs["data"]] == [2.0, 3.0]
    assert span.attributes["mlflow.chat.tokenUsage"] == {
        "input_tokens": 4, "output_tokens": 0, "total_tokens": 4,
    }  # fmt: skip
    assert "mlflow.llm.cost" not in span.attributes  # no price for this model

    async def embed() -> None:
        client = _async_client(openai_url)
        await client.embeddings.create(model="text-embedding-3-small", input="x")
        await client.close()

    asyncio.run(embed())
    span = _only_span(_last_trace())
    assert (span.name, span.span_type) == ("AsyncEmbeddings", SpanType.EMBEDDING)


def test_failing_call_records_error_and_reraises_the_clients_exception(
    autolog: None, oai: Any
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        oai.chat.completions.create(model="broken", messages=MESSAGES)

    assert caught.value.status_code == 400
    assert "does not exist" in str(caught.value)
    trace = _last_trace()
    span = _only_span(trace)
    assert span.status == SpanStatusCode.ERROR
    assert "BadRequestError" in span.status_message
    assert any(e.name == "exception" for e in span.events)
    assert trace.info.state == TraceState.ERROR


def test_disable_restores_the_client(destination: str, oai: Any) -> None:
    original = openai.resources.chat.completions.Completions.create
    heron.set_experiment(f"oa-{uuid.uuid4().hex[:8]}")
    heron.openai.autolog()
    heron.openai.autolog()  # twice is the same as once
    assert openai.resources.chat.completions.Completions.create is not original
    heron.openai.autolog(disable=True)
    assert openai.resources.chat.completions.Completions.create is original

    before = tracing.get_last_active_trace_id()
    oai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert tracing.get_last_active_trace_id() == before  # nothing traced any more


def test_a_dead_tracking_server_never_reaches_the_caller(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, oai: Any
) -> None:
    monkeypatch.setenv("HERON_HOME", str(tmp_path / "home"))
    heron.set_tracking_uri("http://127.0.0.1:9")  # nothing listens there
    lost_before = tracing.export_stats().lost
    heron.openai.autolog()
    try:
        stream = oai.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True)
        assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == (
            "Hello, world"
        )
    finally:
        heron.openai.autolog(disable=True)
        tracing.flush(timeout_s=30)
        heron.set_tracking_uri(None)
    assert tracing.export_stats().lost > lost_before  # counted, not raised
