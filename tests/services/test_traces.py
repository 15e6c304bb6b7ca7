"""TraceService on SQLite and PostgreSQL: spans and infos in either order, search, paging,
tags, deletion, payload limits and assessments."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from heron.entities.assessment import (
    Assessment,
    AssessmentKind,
    AssessmentSource,
    AssessmentSourceType,
)
from heron.entities.trace import Span, SpanEvent, SpanStatusCode, TraceInfo, TraceState
from heron.errors import InvalidParameter, NotFound
from heron.services import AllowAll
from heron.services.traces import TRUNCATED, TraceService

T0 = 1_700_000_000_000_000_000  # ns


@pytest.fixture
def traces(stores: Any) -> Iterator[TraceService]:
    service = TraceService(stores.traces, stores.assessments, AllowAll(), max_payload_bytes=200)
    yield service
    service.close()  # before the stores close: a retention pass may still hold a connection


@pytest.fixture
def exp(stores: Any) -> str:
    return str(
        stores.experiments.create_experiment(
            f"traces-{uuid.uuid4().hex[:6]}", artifact_location=None, tags={}
        )
    )


def new_trace_id() -> str:
    return "tr-" + uuid.uuid4().hex


def spans_of(
    trace_id: str,
    *,
    start: int = T0,
    error: bool = False,
    children: int = 2,
    child_type: str = "TOOL",
    **root: Any,
) -> list[Span]:
    root_id = uuid.uuid4().hex[:16]
    out = [
        Span(
            trace_id=trace_id,
            span_id=root_id,
            parent_span_id=None,
            name=root.pop("name", "root"),
            span_type="CHAIN",
            status=SpanStatusCode.ERROR if error else SpanStatusCode.OK,
            start_time_ns=start,
            end_time_ns=start + 50_000_000,
            inputs=root.pop("inputs", {"q": "hi"}),
            outputs=root.pop("outputs", "answer"),
            attributes=root,
            events=[SpanEvent(name="exception", time_unix_nano=start + 1, attributes={"m": "x"})]
            if error
            else [],
        )
    ]
    for i in range(children):
        out.append(
            Span(
                trace_id=trace_id,
                span_id=uuid.uuid4().hex[:16],
                parent_span_id=root_id,
                name=f"step-{i}",
                span_type=child_type,
                status=SpanStatusCode.OK,
                start_time_ns=start + 1_000_000 * (i + 1),
                end_time_ns=start + 2_000_000 * (i + 1),
                attributes={
                    "model": f"m{i}",
                    "temperature": 0.5,
                    "mlflow.chat.tokenUsage": {
                        "input_tokens": 3,
                        "output_tokens": 4,
                        "total_tokens": 7,
                    },
                },
            )
        )
    return out


def test_spans_alone_make_a_complete_trace(traces: TraceService, exp: str) -> None:
    tid = new_trace_id()
    traces.log_spans(exp, spans_of(tid))
    trace = traces.get_trace(tid)
    assert trace.info.state == TraceState.OK
    assert trace.info.experiment_id == exp
    assert trace.info.request_time == T0 // 1_000_000
    assert trace.info.execution_duration == 50
    assert trace.info.request_preview == '{"q":"hi"}'
    assert trace.info.response_preview == "answer"
    assert trace.info.tags["mlflow.traceName"] == "root"
    assert trace.info.tags["mlflow.trace.spansLocation"] == "TRACKING_STORE"
    assert trace.info.token_usage is not None
    assert trace.info.token_usage.total_tokens == 14
    assert [s.name for s in trace.spans] == ["root", "step-0", "step-1"]
    root = trace.root_span
    assert root is not None
    assert root.inputs == {"q": "hi"}
    assert root.outputs == "answer"
    assert trace.spans[1].attributes["temperature"] == 0.5


def test_info_before_or_after_spans_keeps_the_clients_info(traces: TraceService, exp: str) -> None:
    first, second = new_trace_id(), new_trace_id()
    info = TraceInfo(
        trace_id=first,
        experiment_id=exp,
        request_time=123,
        execution_duration=7,
        state=TraceState.ERROR,
        request_preview="req",
        response_preview="resp",
        tags={"color": "red"},
        trace_metadata={"mlflow.user": "alice"},
    )
    traces.start_trace(info)
    traces.log_spans(exp, spans_of(first))
    traces.log_spans(exp, spans_of(second))
    traces.start_trace(dataclasses.replace(info, trace_id=second))
    for tid in (first, second):
        got = traces.get_trace_info(tid)
        assert (got.state, got.request_time, got.execution_duration) == (TraceState.ERROR, 123, 7)
        assert got.request_preview == "req"
        assert got.tags["color"] == "red"
        assert got.trace_metadata == {"mlflow.user": "alice"}
        assert len(traces.get_trace(tid).spans) == 3


def test_logging_a_span_again_replaces_it(traces: TraceService, exp: str) -> None:
    tid = new_trace_id()
    spans = spans_of(tid, children=0)
    traces.log_spans(exp, spans)
    traces.log_spans(exp, [dataclasses.replace(spans[0], name="renamed")])
    assert [s.name for s in traces.get_trace(tid).spans] == ["renamed"]


def test_missing_experiment_and_bad_spans_are_refused(traces: TraceService, exp: str) -> None:
    with pytest.raises(NotFound):
        traces.log_spans("987654", spans_of(new_trace_id()))
    with pytest.raises(InvalidParameter, match="No spans"):
        traces.log_spans(exp, [])
    bad = dataclasses.replace(spans_of(new_trace_id())[0], span_id="xyz")
    with pytest.raises(InvalidParameter, match="span id"):
        traces.log_spans(exp, [bad])
    # Wider than their columns: a 500 on PostgreSQL once (found by fuzzing).
    bad = dataclasses.replace(spans_of(new_trace_id())[0], parent_span_id="a" * 64)
    with pytest.raises(InvalidParameter, match="parent span id"):
        traces.log_spans(exp, [bad])
    bad = dataclasses.replace(spans_of(new_trace_id())[0], span_type="x" * 200)
    with pytest.raises(InvalidParameter, match="type"):
        traces.log_spans(exp, [bad])
    # PostgreSQL stores no NUL in text; OTLP's protobuf spans are not JSON checked on reading.
    for field in ("name", "status_message"):
        bad = dataclasses.replace(spans_of(new_trace_id())[0], **{field: "a\x00b"})
        with pytest.raises(InvalidParameter, match="NUL"):
            traces.log_spans(exp, [bad])
    with pytest.raises(NotFound):
        traces.get_trace_info(new_trace_id())


def test_big_inputs_are_cut_with_a_marker(traces: TraceService, exp: str) -> None:
    tid = new_trace_id()
    traces.log_spans(exp, spans_of(tid, inputs={"doc": "x" * 1000}, children=0))
    (span,) = traces.get_trace(tid).spans
    assert isinstance(span.inputs, str)
    assert span.inputs.startswith('{"doc":"xxx')
    assert "truncated by Heron" in span.inputs
    assert span.attributes[TRUNCATED] == {"inputs": 1010}
    assert span.outputs == "answer"  # small: kept whole


def _seed(traces: TraceService, exp: str) -> list[str]:
    ids = []
    for i, (color, error) in enumerate([("red", False), ("blue", True), ("red", False)]):
        tid = new_trace_id()
        traces.log_spans(
            exp,
            spans_of(
                tid,
                start=T0 + i * 1_000_000_000,
                error=error,
                name=f"op-{i}",
                child_type="RETRIEVER" if i == 2 else "TOOL",
            ),
        )
        traces.set_trace_tag(tid, "color", color)
        ids.append(tid)
    return ids


@pytest.mark.parametrize(
    ("filter_string", "expected"),
    [
        ("tags.color = 'red'", [0, 2]),
        ("trace.status = 'ERROR'", [1]),
        ("status != 'ERROR'", [0, 2]),
        (f"timestamp_ms > {T0 // 1_000_000}", [1, 2]),
        ("execution_time_ms >= 50", [0, 1, 2]),
        ("name = 'op-1'", [1]),
        ("name LIKE 'op-%'", [0, 1, 2]),
        ("span.type = 'RETRIEVER'", [2]),
        ("span.name = 'step-1'", [0, 1, 2]),
        ("span.status = 'ERROR'", [1]),
        ("span.attributes.model = 'm1'", [0, 1, 2]),
        ("span.attributes.model = 'nope'", []),
        ("tags.color IN ('blue')", [1]),
        ("tags.color = 'red' AND span.type = 'RETRIEVER'", [2]),
    ],
    ids=lambda x: x if isinstance(x, str) else None,
)
def test_search_filters(
    traces: TraceService, exp: str, filter_string: str, expected: list[int]
) -> None:
    ids = _seed(traces, exp)
    page = traces.search_traces([exp], filter_string=filter_string, order_by=["timestamp_ms ASC"])
    assert [t.trace_id for t in page] == [ids[i] for i in expected]


def test_search_orders_and_pages_by_keyset(traces: TraceService, exp: str) -> None:
    ids = _seed(traces, exp)
    newest = traces.search_traces([exp])
    assert [t.trace_id for t in newest] == ids[::-1]
    seen, token = [], None
    while True:
        page = traces.search_traces(
            [exp], max_results=2, page_token=token, order_by=["timestamp_ms"]
        )
        seen += [t.trace_id for t in page]
        token = page.next_page_token
        if not token:
            break
    assert seen == ids
    with pytest.raises(InvalidParameter, match="page_token"):
        traces.search_traces([exp], page_token="garbage")  # noqa: S106
    with pytest.raises(InvalidParameter):
        traces.search_traces([exp], max_results=501)
    with pytest.raises(InvalidParameter, match="unknown prefix"):
        traces.search_traces([exp], filter_string="params.x = '1'")
    with pytest.raises(InvalidParameter, match="Cannot order"):
        traces.search_traces([exp], order_by=["tags.x"])


def test_search_full_traces_loads_each_page_with_its_spans(traces: TraceService, exp: str) -> None:
    ids = _seed(traces, exp)
    first = traces.search_full_traces([exp], max_results=2, order_by=["timestamp_ms"])
    assert [t.info.trace_id for t in first] == ids[:2]
    for trace in first:
        assert trace.spans == traces.get_trace(trace.info.trace_id).spans
        assert [s.start_time_ns for s in trace.spans] == sorted(
            s.start_time_ns for s in trace.spans
        )
        assert {s.trace_id for s in trace.spans} == {trace.info.trace_id}
    assert first[0].info.tags["color"] == "red"
    rest = traces.search_full_traces(
        [exp], max_results=2, order_by=["timestamp_ms"], page_token=first.next_page_token
    )
    assert [t.info.trace_id for t in rest] == ids[2:]
    assert rest.next_page_token is None
    bare = traces.search_full_traces(
        [exp], filter_string="tags.color = 'blue'", include_spans=False
    )
    assert [(t.info.trace_id, list(t.spans)) for t in bare] == [(ids[1], [])]


def test_tags_set_and_delete(traces: TraceService, exp: str) -> None:
    tid = new_trace_id()
    traces.log_spans(exp, spans_of(tid))
    traces.set_trace_tag(tid, "k", "v")
    traces.delete_trace_tag(tid, "k")
    assert "k" not in traces.get_trace_info(tid).tags
    with pytest.raises(NotFound):
        traces.delete_trace_tag(tid, "k")
    with pytest.raises(InvalidParameter):
        traces.set_trace_tag(tid, "k", "v" * 8001)


def test_delete_by_ids_and_by_age(traces: TraceService, exp: str) -> None:
    ids = _seed(traces, exp)
    assert traces.delete_traces(exp, trace_ids=[ids[0], new_trace_id()]) == 1
    assert traces.get_traces(ids)
    assert [t.info.trace_id for t in traces.get_traces(ids)] == ids[1:]
    cutoff = (T0 + 2_000_000_000) // 1_000_000
    assert traces.delete_traces(exp, max_timestamp_millis=cutoff, max_traces=1) == 1
    assert [t.trace_id for t in traces.search_traces([exp])] == [ids[2]]
    assert traces.apply_retention(exp, 1) == 1  # everything is from 2023
    with pytest.raises(InvalidParameter):
        traces.delete_traces(exp)


def test_assessments_feedback_expectation_override_history(traces: TraceService, exp: str) -> None:
    tid = new_trace_id()
    spans = spans_of(tid)
    traces.log_spans(exp, spans)
    human = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="alice")
    fb = traces.create_assessment(
        Assessment(
            assessment_id="",
            trace_id=tid,
            name="correct",
            kind=AssessmentKind.FEEDBACK,
            value=True,
            source=human,
            rationale="checked",
            span_id=spans[1].span_id,
        )
    )
    ex = traces.create_assessment(
        Assessment(
            assessment_id="",
            trace_id=tid,
            name="answer",
            kind=AssessmentKind.EXPECTATION,
            value={"text": "42"},
        )
    )
    assert fb.assessment_id.startswith("a-")
    assert fb.assessment_id != ex.assessment_id
    got = traces.get_assessment(tid, fb.assessment_id)
    assert (got.value, got.rationale, got.source, got.span_id) == (
        True,
        "checked",
        human,
        spans[1].span_id,
    )
    updated = traces.update_assessment(tid, ex.assessment_id, {"value": {"text": "43"}})
    assert updated.value == {"text": "43"}
    new = traces.override_assessment(
        tid,
        fb.assessment_id,
        Assessment(
            assessment_id="",
            trace_id=tid,
            name="",
            kind=AssessmentKind.FEEDBACK,
            value=False,
            source=human,
        ),
    )
    by_id = {a.assessment_id: a for a in traces.get_trace_info(tid).assessments}
    assert by_id[fb.assessment_id].valid is False
    assert by_id[new.assessment_id].overrides == fb.assessment_id
    assert by_id[new.assessment_id].valid
    found = traces.search_traces([exp], filter_string="feedback.correct = 'false'")
    assert [t.trace_id for t in found] == [tid]
    traces.delete_assessment(tid, new.assessment_id)
    assert traces.get_assessment(tid, fb.assessment_id).valid is True
    with pytest.raises(NotFound):
        traces.get_assessment(tid, new.assessment_id)
    with pytest.raises(NotFound):
        traces.create_assessment(dataclasses.replace(ex, trace_id=new_trace_id()))


def _feedback(trace_id: str, **fields: Any) -> Assessment:
    return Assessment(
        assessment_id="", trace_id=trace_id, name="n", kind=AssessmentKind.FEEDBACK, value=1,
        **fields,
    )  # fmt: skip


@pytest.mark.parametrize(
    "fields",
    [
        {"span_id": 1},
        {"span_id": {}},
        {"rationale": {"a": 1}},
        {"overrides": ["x"]},
        {"metadata": {"a": 1}},
        {"create_time": 2**63},
        {"create_time": 253_402_300_800_000},
        {"create_time": -1},
        {"source": AssessmentSource(source_id={"a": 1})},  # type: ignore[arg-type]
    ],
    ids=["span-id-int", "span-id-object", "rationale-object", "overrides-list",
         "metadata-int-value", "create-time-past-int64", "create-time-year-10000",
         "create-time-negative", "source-id-object"],
)  # fmt: skip
def test_create_assessment_refuses_mistyped_fields(
    traces: TraceService, exp: str, fields: dict[str, Any]
) -> None:
    tid = new_trace_id()
    traces.log_spans(exp, spans_of(tid))
    with pytest.raises(InvalidParameter):
        traces.create_assessment(_feedback(tid, **fields))
    assert not traces.get_trace_info(tid).assessments


@pytest.mark.parametrize(
    "changes",
    [{"rationale": {}}, {"metadata": [1]}, {"valid": "x"}, {"span_id": True}, {"name": 1}],
    ids=["rationale-object", "metadata-list", "valid-string", "span-id-bool", "name-int"],
)
def test_update_assessment_refuses_mistyped_changes(
    traces: TraceService, exp: str, changes: dict[str, Any]
) -> None:
    tid = new_trace_id()
    traces.log_spans(exp, spans_of(tid))
    created = traces.create_assessment(_feedback(tid, rationale="r"))
    with pytest.raises(InvalidParameter):
        traces.update_assessment(tid, created.assessment_id, changes)
    assert traces.get_assessment(tid, created.assessment_id) == created


@pytest.mark.parametrize(
    "info_fields",
    [
        {"request_time": 2**63 - 1},
        {"request_time": 253_402_300_800_000},
        {"execution_duration": 2**63},
    ],
    ids=["request-time-int64-max", "request-time-year-10000", "duration-past-int64"],
)
def test_start_trace_refuses_what_cannot_be_stored_or_read_back(
    traces: TraceService, exp: str, info_fields: dict[str, Any]
) -> None:
    info = TraceInfo(
        trace_id=new_trace_id(), experiment_id=exp, **{"request_time": 1, **info_fields}
    )
    with pytest.raises(InvalidParameter):
        traces.start_trace(info)
    with pytest.raises(NotFound):
        traces.get_trace_info(info.trace_id)


def test_span_times_past_int64_are_refused(traces: TraceService, exp: str) -> None:
    root = spans_of(new_trace_id(), children=0)[0]
    for bad in (
        dataclasses.replace(root, end_time_ns=2**64 - 1),
        dataclasses.replace(root, start_time_ns=2**63, end_time_ns=2**63 + 1),
        dataclasses.replace(root, events=[SpanEvent(name="e", time_unix_nano=2**64 - 1)]),
    ):
        with pytest.raises(InvalidParameter, match="time"):
            traces.log_spans(exp, [bad])
    with pytest.raises(NotFound):
        traces.get_trace_info(root.trace_id)


def test_times_stored_out_of_range_by_older_versions_still_read(
    stores: Any, traces: TraceService, exp: str
) -> None:
    from heron.mlflow_json.traces import trace_info

    tid = new_trace_id()
    # The store itself does not check: this is the row an older Heron let through.
    stores.traces.start_trace(TraceInfo(trace_id=tid, experiment_id=exp, request_time=2**63 - 1))
    old = _feedback(tid, create_time=-(2**63))
    stores.assessments.create_assessment(old)
    (found,) = traces.search_traces([exp])
    body = trace_info(found)
    assert body["request_time"] == "9999-12-31T23:59:59.999Z"
    (assessment,) = body["assessments"]
    assert assessment["create_time"] == "0001-01-01T00:00:00.000Z"
