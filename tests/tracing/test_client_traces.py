"""HeronClient's trace methods (MLflow's MlflowClient names), in process and over HTTP: search
with spans or without, by run, by client_request_id; tags; assessments; deletion."""

from __future__ import annotations

import uuid

import pytest

import heron
from heron import HeronClient, tracing
from heron.entities.assessment import AssessmentSourceType
from heron.errors import InvalidParameter, NotFound


def _traced(answer: str, **trace_fields: str) -> str:
    with tracing.start_span("root") as span:
        with tracing.start_span("child"):
            pass
        tracing.update_current_trace(**trace_fields)
        span.set_outputs(answer)
    trace_id = tracing.get_last_active_trace_id()
    assert trace_id is not None
    return trace_id


def test_client_searches_and_reads_traces(destination: str, request: pytest.FixtureRequest) -> None:
    exp = heron.set_experiment(f"ct-{uuid.uuid4().hex[:8]}").experiment_id
    with heron.start_run() as run:
        in_run = _traced("a")
    tagged = _traced("b", client_request_id="req-42")
    assert tracing.flush(timeout_s=30)
    client = HeronClient(heron.get_tracking_uri())
    request.addfinalizer(client.close)

    found = client.search_traces([exp], filter_string="client_request_id = 'req-42'")
    assert [t.info.trace_id for t in found] == [tagged]
    assert found[0].info.client_request_id == "req-42"
    assert {s.name for s in found[0].spans} == {"root", "child"}
    assert client.get_trace(tagged).info.client_request_id == "req-42"

    by_run = client.search_traces([exp], run_id=run.info.run_id, include_spans=False)
    assert [t.info.trace_id for t in by_run] == [in_run]
    assert not by_run[0].spans

    first = client.search_traces([exp], max_results=1)
    assert len(first) == 1
    assert first.next_page_token
    rest = client.search_traces([exp], max_results=1, page_token=first.next_page_token)
    assert {first[0].info.trace_id, rest[0].info.trace_id} == {in_run, tagged}

    client.set_trace_tag(tagged, "reviewed", True)
    assert client.get_trace(tagged).info.tags["reviewed"] == "True"
    client.delete_trace_tag(tagged, "reviewed")
    assert "reviewed" not in client.get_trace(tagged).info.tags

    assert client.delete_traces(exp, trace_ids=[in_run]) == 1
    with pytest.raises(NotFound):
        client.get_trace(in_run)


def test_client_assessments_keep_history_on_override(
    destination: str, request: pytest.FixtureRequest
) -> None:
    heron.set_experiment(f"ca-{uuid.uuid4().hex[:8]}")
    trace_id = _traced("c")
    assert tracing.flush(timeout_s=30)
    client = HeronClient(heron.get_tracking_uri())
    request.addfinalizer(client.close)

    feedback = client.log_feedback(trace_id, "helpful", True, source="human", rationale="ok")
    assert feedback.source.source_type == AssessmentSourceType.HUMAN
    changed = client.update_assessment(trace_id, feedback.assessment_id, rationale="fine")
    assert changed.rationale == "fine"
    newer = client.override_feedback(trace_id, feedback.assessment_id, False)
    assert newer.overrides == feedback.assessment_id
    assert client.get_assessment(trace_id, feedback.assessment_id).valid is False
    expectation = client.log_expectation(trace_id, "answer", {"text": "c"})
    assert client.get_assessment(trace_id, expectation.assessment_id).value == {"text": "c"}
    client.delete_assessment(trace_id, expectation.assessment_id)
    with pytest.raises(NotFound):
        client.get_assessment(trace_id, expectation.assessment_id)

    with pytest.raises(InvalidParameter, match="HUMAN, LLM_JUDGE, CODE"):
        client.log_feedback(trace_id, "x", 1, source="robot")


def _failing_tool() -> None:
    with tracing.start_span("tool", span_type="TOOL") as tool:
        tool.set_attributes({"retries": 2, "ratio": 0.5, "nested": {"a": [True, None]}})
        tool.add_event("chunk", {"i": 1})
        raise ValueError("kaput")


def test_search_returns_whole_traces_as_get_trace_does(
    destination: str, request: pytest.FixtureRequest
) -> None:
    exp = heron.set_experiment(f"cw-{uuid.uuid4().hex[:8]}").experiment_id
    with tracing.start_span("agent", span_type="AGENT") as root:
        root.set_inputs({"question": "why?", "k": [1, 2]})
        tracing.update_current_trace(tags={"team": "search"}, user="alice", session="s-1")
        with pytest.raises(ValueError, match="kaput"):
            _failing_tool()
        root.set_outputs("because")
    trace_id = tracing.get_last_active_trace_id()
    assert trace_id is not None
    assert tracing.flush(timeout_s=30)
    client = HeronClient(heron.get_tracking_uri())
    request.addfinalizer(client.close)
    client.log_feedback(trace_id, "helpful", 0.5, source="llm_judge", rationale="partly")

    (found,) = client.search_traces([exp], filter_string="span.status = 'ERROR'")
    whole = client.get_trace(trace_id)
    assert sorted(found.spans, key=lambda s: s.name) == sorted(whole.spans, key=lambda s: s.name)
    tool_span = next(s for s in found.spans if s.name == "tool")
    assert tool_span.attributes["nested"] == {"a": [True, None]}
    assert [e.name for e in tool_span.events] == ["chunk", "exception"]
    assert tool_span.status.value == "ERROR"
    assert found.info.tags == whole.info.tags
    assert found.info.tags["team"] == "search"
    assert found.info.trace_metadata["mlflow.trace.user"] == "alice"
    assert found.info.assessments == whole.info.assessments
    assert found.info.assessments[0].value == 0.5
    assert (found.info.request_time, found.info.execution_duration, found.info.state) == (
        whole.info.request_time, whole.info.execution_duration, whole.info.state,
    )  # fmt: skip
