"""The tracing SDK in process and over HTTP: decorators on every kind of function, spans,
exceptions, trace tags and metadata, links to the active run, sampling, search and
assessments."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

import heron
from heron import tracing
from heron.entities.trace import SpanStatusCode, SpanType, Trace, TraceState


def _fetch(trace_id: str | None) -> Trace:
    assert trace_id is not None
    assert tracing.flush(timeout_s=30)
    return tracing.get_trace(trace_id)


def _new_experiment() -> str:
    return heron.set_experiment(f"tr-{uuid.uuid4().hex[:8]}").experiment_id


def test_decorated_functions_nest_and_record_io(destination: str) -> None:
    exp = _new_experiment()

    @tracing.trace(span_type=SpanType.TOOL)
    def lookup(q: str) -> dict[str, list[str]]:
        return {"hits": [q.upper()]}

    @tracing.trace(name="pipeline", attributes={"version": "7"})
    def pipeline(question: str) -> str:
        hits = lookup(question)
        with tracing.start_span("format", span_type=SpanType.PARSER) as span:
            span.set_inputs(hits)
            span.add_event("formatting", {"n": 1})
            answer = f"answer: {hits['hits'][0]}"
            span.set_outputs(answer)
        return answer

    assert pipeline("hi") == "answer: HI"
    trace = _fetch(tracing.get_last_active_trace_id())
    assert trace.info.experiment_id == exp
    assert trace.info.state == TraceState.OK
    spans = {s.name: s for s in trace.spans}
    assert set(spans) == {"pipeline", "lookup", "format"}
    root = spans["pipeline"]
    assert root.parent_span_id is None
    assert spans["lookup"].parent_span_id == root.span_id
    assert spans["format"].parent_span_id == root.span_id
    assert root.inputs == {"question": "hi"}
    assert root.outputs == "answer: HI"
    assert root.attributes["version"] == "7"
    assert spans["lookup"].span_type == SpanType.TOOL
    assert spans["lookup"].outputs == {"hits": ["HI"]}
    assert spans["format"].events[0].name == "formatting"
    assert trace.info.trace_metadata["mlflow.trace_schema.version"] == "3"


def test_exceptions_mark_the_span_error_and_are_reraised(destination: str) -> None:
    _new_experiment()

    @tracing.trace
    def boom() -> None:
        raise ValueError("kaput")

    with pytest.raises(ValueError, match="kaput"):
        boom()
    trace = _fetch(tracing.get_last_active_trace_id())
    assert trace.info.state == TraceState.ERROR
    (span,) = trace.spans
    assert span.status == SpanStatusCode.ERROR
    event = next(e for e in span.events if e.name == "exception")
    assert "kaput" in event.attributes["exception.message"]


def test_async_functions_and_generators(destination: str) -> None:
    _new_experiment()

    @tracing.trace
    def words(n: int) -> Iterator[str]:
        for i in range(n):
            yield f"w{i} "

    @tracing.trace
    async def stream(n: int) -> AsyncIterator[int]:
        for i in range(n):
            await asyncio.sleep(0)
            yield i

    @tracing.trace(span_type=SpanType.AGENT)
    async def agent() -> list[object]:
        chunks = [i async for i in stream(3)]
        results = await asyncio.gather(helper(1), helper(2))
        return [chunks, results, "".join(words(2))]

    @tracing.trace
    async def helper(x: int) -> int:
        return x * 10

    assert asyncio.run(agent()) == [[0, 1, 2], [10, 20], "w0 w1 "]
    trace = _fetch(tracing.get_last_active_trace_id())
    spans = {s.name: s for s in trace.spans if s.name != "helper"}
    helpers = [s for s in trace.spans if s.name == "helper"]
    root = spans["agent"]
    assert spans["stream"].outputs == [0, 1, 2]
    assert spans["words"].outputs == "w0 w1 "
    assert {h.parent_span_id for h in helpers} == {root.span_id}
    assert sorted(h.outputs for h in helpers) == [10, 20]


def test_trace_tags_metadata_and_run_link(destination: str) -> None:
    exp = _new_experiment()
    with heron.start_run() as run, tracing.start_span("root") as span:
        tracing.update_current_trace(
            tags={"color": "red"}, metadata={"k": "v"}, user="alice", session="s1"
        )
        trace_id = span.trace_id
    info = _fetch(trace_id).info
    assert info.tags["color"] == "red"
    assert info.trace_metadata["k"] == "v"
    assert info.trace_metadata["mlflow.trace.user"] == "alice"
    assert info.trace_metadata["mlflow.trace.session"] == "s1"
    assert info.trace_metadata["mlflow.sourceRun"] == run.info.run_id
    found = tracing.search_traces([exp], filter_string=f"run_id = '{run.info.run_id}'")
    assert [t.info.trace_id for t in found] == [trace_id]


def test_search_with_filters_and_dataframe(destination: str) -> None:
    exp = _new_experiment()
    ids = []
    for i, color in enumerate(["red", "blue", "red"]):
        with tracing.start_span(f"op-{i}", span_type=SpanType.LLM) as span:
            tracing.update_current_trace(tags={"color": color})
            span.set_attribute("model", f"m{i}")
            ids.append(span.trace_id)
        time.sleep(0.005)  # distinct start times: the order below is by time
    assert tracing.flush(timeout_s=30)
    red = tracing.search_traces(
        [exp], filter_string="tags.color = 'red'", order_by=["timestamp_ms"]
    )
    assert [t.info.trace_id for t in red] == [ids[0], ids[2]]
    assert red[0].spans[0].attributes["model"] == "m0"
    by_attribute = tracing.search_traces(
        [exp], filter_string="span.attributes.model = 'm1'", include_spans=False
    )
    assert [t.info.trace_id for t in by_attribute] == [ids[1]]
    frame = tracing.search_traces([exp], filter_string="span.type = 'LLM'", return_type="pandas")
    assert sorted(frame["trace_id"]) == sorted(ids)


def test_feedback_expectation_and_override(destination: str) -> None:
    _new_experiment()
    with tracing.start_span("answer") as span:
        trace_id = span.trace_id
    _fetch(trace_id)
    fb = tracing.log_feedback(trace_id=trace_id, name="correct", value=True, source="HUMAN",
                              rationale="checked")  # fmt: skip
    ex = tracing.log_expectation(trace_id=trace_id, name="expected", value={"answer": 42})
    assert tracing.get_assessment(trace_id, ex.assessment_id).value == {"answer": 42}
    new = tracing.override_feedback(trace_id=trace_id, assessment_id=fb.assessment_id, value=False)
    assessments = {a.assessment_id: a for a in tracing.get_trace(trace_id).info.assessments}
    assert assessments[fb.assessment_id].valid is False
    assert assessments[new.assessment_id].value is False
    assert assessments[new.assessment_id].overrides == fb.assessment_id
    updated = tracing.update_assessment(trace_id, ex.assessment_id, rationale="from the doc")
    assert updated.rationale == "from the doc"
    tracing.delete_assessment(trace_id, new.assessment_id)
    assert tracing.get_assessment(trace_id, fb.assessment_id).valid is True


def test_sampling_ratio_zero_records_nothing_and_the_app_still_runs(destination: str) -> None:
    _new_experiment()
    tracing.configure(sampling_ratio=0.0)
    try:
        before = tracing.get_last_active_trace_id()

        @tracing.trace
        def work(x: int) -> int:
            return x + 1

        assert work(1) == 2
        with tracing.start_span("unsampled") as span:
            span.set_inputs({"a": 1})
        assert tracing.get_last_active_trace_id() == before
    finally:
        tracing.configure(sampling_ratio=1.0)


def test_a_dead_server_loses_traces_with_a_count_not_an_exception(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    heron.set_tracking_uri("http://127.0.0.1:9")  # nothing listens on the discard port
    try:
        before = tracing.export_stats().failed

        @tracing.trace
        def work() -> int:
            return 1

        assert work() == 1
        assert tracing.flush(timeout_s=30)
        assert tracing.export_stats().failed == before + 1
        assert tracing.export_stats().last_error
    finally:
        heron.set_tracking_uri(None)
