"""The overview's hourly rollups on SQLite and PostgreSQL stay true to the raw rows: after a
trace arrives late into an old hour, an assessment is overridden, changed or deleted, a trace
changes app version or environment, a span of a new type arrives later, traces are deleted
(one by one, by retention) and an experiment is purged; by environment and span type too;
and a window's partial edge hours, read raw, add up with the whole ones. Each overview is
held to the same overview read from the raw rows alone."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.services.test_trace_analytics import HOUR, MODEL, T0, feedback, log_trace

from heron.entities import LifecycleStage, reserved
from heron.entities.deleted import DeletedKind
from heron.entities.trace import Span, SpanStatusCode
from heron.search.traces import parse_trace_filter
from heron.services import AllowAll
from heron.services.trace_analytics import buckets as cut
from heron.services.traces import TraceService
from heron.store.sql.tables_rollups import trace_rollup_hours, trace_rollups
from heron.store.sql.trace_overview import overview
from heron.store.trace_analytics import Window

MINUTE = 60_000


@pytest.fixture
def traces(stores: Any) -> Iterator[TraceService]:
    service = TraceService(stores.traces, stores.assessments, AllowAll(), prune_interval_s=None)
    yield service
    service.close()


@pytest.fixture
def exp(stores: Any) -> str:
    name = f"rollups-{uuid.uuid4().hex[:6]}"
    return str(stores.experiments.create_experiment(name, artifact_location=None, tags={}))


def both(stores: Any, exp: str, start: int, end: int, grain: int, flt: str = "") -> tuple[Any, Any]:
    """The overview as the store answers it (rollups where it can) and from raw rows only."""
    window = Window(
        experiment_id=exp, start_ms=start, end_ms=end, filter=parse_trace_filter(flt or None)
    )
    bounds = cut(start, end, grain)
    return (
        stores.trace_analytics.overview(window, bounds),
        overview(stores.database, window, bounds, rollups=False),
    )


def same(stores: Any, exp: str, start: int = T0, end: int = T0 + 4 * HOUR, **kw: Any) -> Any:
    """Asserts the two agree for hourly and 6-hourly buckets; returns the hourly overview."""
    for grain in (HOUR, 6 * HOUR):
        found, raw = both(stores, exp, start, end, grain, **kw)
        assert found == raw
    return both(stores, exp, start, end, HOUR, **kw)[0]


def marks(stores: Any, exp: str) -> list[int]:
    h = trace_rollup_hours.c
    query = select(h.hour_ms).where(h.experiment_id == int(exp)).order_by(h.hour_ms)
    with stores.database.read() as conn:
        return [(row[0] - T0) // HOUR for row in conn.execute(query)]


def fill(traces: TraceService, exp: str, hours: Sequence[int] = (0, 1, 2, 3)) -> list[str]:
    made = []
    for hour in hours:
        for k in range(3):
            tid = log_trace(
                traces, exp, at_ms=T0 + hour * HOUR + k * 7 * MINUTE, duration_ms=100 + 37 * k,
                error=k == 2, tokens=(10 + k, 5), cost=0.5,
                tools=[("search", 20 + k, k == 1), ("fetch", 5, False)],
                metadata={MODEL: f"m-{k % 2}"},
            )  # fmt: skip
            feedback(traces, tid, "helpful", k % 2 == 0)
            made.append(tid)
    return made


def test_whole_hours_are_marked_and_add_up_with_the_raw_edges(stores: Any, traces: Any, exp: str):
    fill(traces, exp)
    found = same(stores, exp)
    assert marks(stores, exp) == [0, 1, 2, 3]
    assert (found.totals.traces, found.totals.errors) == (12, 4)
    assert [t.calls for t in found.tools] == [12, 12]
    assert found.scores[0].count == 12
    # a window from the middle of hour 0 to the middle of hour 3: its edges are read raw
    same(stores, exp, start=T0 + 10 * MINUTE, end=T0 + 3 * HOUR + 10 * MINUTE)
    fifteen = both(stores, exp, T0 + 10 * MINUTE, T0 + 3 * HOUR + 10 * MINUTE, 15 * MINUTE)
    assert fifteen[0] == fifteen[1]
    # an app version's filter reads the rollups of that version only
    one = same(stores, exp, flt=f"metadata.`{MODEL}` = 'm-1'")
    assert one.totals.traces == 4
    # any other filter leaving few traces reads them, then their scores and tools, by id
    failed = same(stores, exp, flt="trace.status = 'ERROR'")
    assert (failed.totals.traces, [t.calls for t in failed.tools]) == (4, [4, 4])


def test_a_late_trace_drops_its_hours_mark_and_counts_once_rebuilt(
    stores: Any, traces: Any, exp: str
) -> None:
    fill(traces, exp)
    same(stores, exp)
    log_trace(traces, exp, at_ms=T0 + HOUR + 59 * MINUTE, duration_ms=9000,
              tools=[("search", 1, False)])  # fmt: skip
    assert marks(stores, exp) == [0, 2, 3]  # the trigger, in the writer's transaction
    found = same(stores, exp)
    assert found.buckets[1].traces == 4
    assert (found.buckets[1].latency.p99 or 0) > 5000
    assert marks(stores, exp) == [0, 1, 2, 3]


def test_assessments_overridden_changed_and_deleted_stay_counted_right(
    stores: Any, traces: Any, exp: str
) -> None:
    made = fill(traces, exp)
    same(stores, exp)
    first = traces.get_trace_info(made[0]).assessments[0]
    traces.override_assessment(made[0], first.assessment_id, dataclasses.replace(first, value=0))
    assert 0 not in marks(stores, exp)
    same(stores, exp)
    other = traces.get_trace_info(made[4]).assessments[0]
    traces.update_assessment(made[4], other.assessment_id, {"value": 0.25})
    same(stores, exp)
    gone = traces.get_trace_info(made[8]).assessments[0]
    traces.delete_assessment(made[8], gone.assessment_id)
    found = same(stores, exp)
    assert found.scores[0].count == 11


def test_a_trace_moving_to_another_version_moves_its_tools(
    stores: Any, traces: Any, exp: str
) -> None:
    made = fill(traces, exp)
    same(stores, exp, flt=f"metadata.`{MODEL}` = 'm-0'")
    trace = traces.get_trace(made[0])
    root = next(s for s in trace.spans if s.parent_span_id is None)
    attributes = {**root.attributes, "heron.traceMetadata": {MODEL: "m-1"}}
    traces.log_spans(exp, [dataclasses.replace(root, attributes=attributes)])
    moved = same(stores, exp, flt=f"metadata.`{MODEL}` = 'm-1'")
    assert moved.totals.traces == 5
    assert sum(t.calls for t in moved.tools) == 10
    same(stores, exp, flt=f"metadata.`{MODEL}` = 'm-0'")


def test_deleted_traces_leave_the_rollups_by_every_path(stores: Any, traces: Any, exp: str) -> None:
    made = fill(traces, exp)
    same(stores, exp)
    traces.delete_traces(exp, trace_ids=[made[4]])
    assert same(stores, exp).totals.traces == 11
    traces.delete_traces(exp, max_timestamp_millis=T0 + HOUR - 1)  # as retention does
    found = same(stores, exp)
    assert (found.buckets[0].traces, found.totals.traces) == (0, 8)
    stores.experiments.set_experiment_lifecycle(exp, LifecycleStage.DELETED)
    for item in stores.purge.find_deleted(experiment_ids=[exp]):
        if item.kind is DeletedKind.EXPERIMENT:
            stores.purge.purge(item)
    with stores.database.read() as conn:
        left = conn.execute(
            select(func.count()).where(trace_rollups.c.experiment_id == int(exp))
        ).scalar()
    assert (marks(stores, exp), left) == ([], 0)


ENV = reserved.SOURCE_TYPE
STAGING = f"metadata.`{ENV}` = 'staging'"
TOOL = "span.type = 'TOOL'"
RETRIEVER = "span.type = 'RETRIEVER'"


def fill_kinds(traces: TraceService, exp: str, hours: Sequence[int] = (0, 1, 2, 3)) -> list[str]:
    """Per hour: a staging trace with tools, a prod one with tools, one with neither."""
    made = []
    for hour in hours:
        for k, env in enumerate(("staging", "prod", None)):
            tid = log_trace(
                traces, exp, at_ms=T0 + hour * HOUR + k * 7 * MINUTE, duration_ms=100 + 37 * k,
                error=k == 1, tokens=(10 + k, 5), cost=0.5,
                tools=[("search", 20 + k, k == 1)] if env else [],
                metadata={MODEL: f"m-{k % 2}", **({ENV: env} if env else {})},
            )  # fmt: skip
            feedback(traces, tid, "helpful", k % 2 == 0)
            made.append(tid)
    return made


def add_span(traces: TraceService, exp: str, tid: str, kind: str, at_ms: int) -> None:
    root = next(s for s in traces.get_trace(tid).spans if s.parent_span_id is None)
    start = at_ms * 1_000_000
    traces.log_spans(exp, [
        Span(trace_id=tid, span_id=uuid.uuid4().hex[:16], parent_span_id=root.span_id,
             name=kind.lower(), span_type=kind, status=SpanStatusCode.OK, start_time_ns=start,
             end_time_ns=start + 3_000_000)
    ])  # fmt: skip


def test_environment_and_span_type_filters_read_rollups_true_to_the_raw_rows(
    stores: Any, traces: Any, exp: str
) -> None:
    fill_kinds(traces, exp)
    staging = same(stores, exp, flt=STAGING)
    assert marks(stores, exp) == [0, 1, 2, 3]  # read from the rollups
    assert (staging.totals.traces, [t.calls for t in staging.tools]) == (4, [4])
    assert same(stores, exp, flt=TOOL).totals.traces == 8
    assert same(stores, exp, flt=RETRIEVER).totals.traces == 0
    both_ = same(stores, exp, flt=f"{STAGING} AND {TOOL} AND metadata.`{MODEL}` = 'm-0'")
    assert (both_.totals.traces, both_.scores[0].count) == (4, 4)
    assert same(stores, exp, flt=f"{TOOL} AND metadata.`{MODEL}` = 'm-1'").totals.errors == 4


def test_a_trace_changing_environment_moves_its_rows_and_tools(
    stores: Any, traces: Any, exp: str
) -> None:
    made = fill_kinds(traces, exp)
    same(stores, exp, flt=STAGING)
    root = next(s for s in traces.get_trace(made[1]).spans if s.parent_span_id is None)
    attributes = {**root.attributes, "heron.traceMetadata": {MODEL: "m-1", ENV: "staging"}}
    traces.log_spans(exp, [dataclasses.replace(root, attributes=attributes)])
    assert 0 not in marks(stores, exp)
    moved = same(stores, exp, flt=STAGING)
    assert (moved.totals.traces, sum(t.calls for t in moved.tools)) == (5, 5)
    assert same(stores, exp, flt=f"metadata.`{ENV}` = 'prod'").totals.traces == 3


def test_a_span_of_a_new_type_moves_its_trace_and_its_tools_in_other_hours(
    stores: Any, traces: Any, exp: str
) -> None:
    made = fill_kinds(traces, exp)
    late = log_trace(traces, exp, at_ms=T0 + 59 * MINUTE, duration_ms=50, metadata={ENV: "prod"})
    add_span(traces, exp, late, "TOOL", T0 + HOUR + 5 * MINUTE)  # its tool call, in hour 1
    same(stores, exp, flt=RETRIEVER)
    same(stores, exp, flt=TOOL)
    assert marks(stores, exp) == [0, 1, 2, 3]
    add_span(traces, exp, late, "RETRIEVER", T0 + 2 * HOUR + 5 * MINUTE)
    assert marks(stores, exp) == [2, 3]  # its own hour and its tool call's
    found = same(stores, exp, flt=RETRIEVER)
    assert (found.totals.traces, [(t.name, t.calls) for t in found.tools]) == (1, [("tool", 1)])
    add_span(traces, exp, made[2], "TOOL", T0 + 3 * HOUR)  # a first tool in a trace without
    assert same(stores, exp, flt=TOOL).totals.traces == 10
    add_span(traces, exp, made[5], "CHAT_MODEL", T0 + HOUR + 30 * MINUTE)  # a type it holds
    assert same(stores, exp, flt="span.type = 'CHAT_MODEL'").totals.traces == 13


def test_deleted_traces_leave_the_environment_and_span_type_rows(
    stores: Any, traces: Any, exp: str
) -> None:
    made = fill_kinds(traces, exp)
    same(stores, exp, flt=STAGING)
    same(stores, exp, flt=TOOL)
    traces.delete_traces(exp, trace_ids=[made[3], made[8]])  # staging in hour 1, none in 2
    assert same(stores, exp, flt=STAGING).totals.traces == 3
    assert same(stores, exp, flt=TOOL).totals.traces == 7
    traces.delete_traces(exp, max_timestamp_millis=T0 + HOUR - 1)  # as retention does
    found = same(stores, exp, flt=f"{STAGING} AND {TOOL}")
    assert (found.buckets[0].traces, found.totals.traces) == (0, 2)
    assert same(stores, exp, flt="span.type = 'AGENT'").totals.traces == 7


def test_a_filter_leaving_many_traces_reads_their_ids_once_true_to_the_raw_rows(
    stores: Any, traces: Any, exp: str
) -> None:
    fill_kinds(traces, exp)
    early = log_trace(traces, exp, at_ms=T0 - 30 * MINUTE, duration_ms=10, tags={"team": "a"})
    add_span(traces, exp, early, "TOOL", T0 + 5 * MINUTE)  # a tool call in the window
    for flt in ("tags.team LIKE 'a'", "trace.status = 'OK'", f"{STAGING} AND trace.status = 'OK'"):
        window = Window(experiment_id=exp, start_ms=T0, end_ms=T0 + 4 * HOUR,
                        filter=parse_trace_filter(flt))  # fmt: skip
        for grain in (HOUR, 15 * MINUTE):
            bounds = cut(T0, T0 + 4 * HOUR, grain)
            raw = overview(stores.database, window, bounds, rollups=False)
            many = overview(stores.database, window, bounds, few=0)  # past the few-traces path
            assert many == raw
            # the few-traces probe reads up to few + 1 of them (in time order), then gives up
            assert overview(stores.database, window, bounds, few=2) == raw
            if flt.startswith("tags"):  # only the earlier trace, by its tool call
                assert (many.totals.traces, [t.calls for t in many.tools]) == (0, [1])


def test_hours_built_in_two_transactions_read_true_to_the_raw_rows(
    stores: Any, traces: Any, exp: str
) -> None:
    # 50 whole hours: built 48 to a transaction; a trace of hour 47 has a tool call and a
    # span of a new type in hour 48, which the second transaction builds
    fill_kinds(traces, exp, hours=(0, 1, 47, 48, 49))
    edge = log_trace(traces, exp, at_ms=T0 + 47 * HOUR + 59 * MINUTE, duration_ms=90,
                     metadata={ENV: "staging", MODEL: "m-1"})  # fmt: skip
    add_span(traces, exp, edge, "TOOL", T0 + 48 * HOUR + MINUTE)
    add_span(traces, exp, edge, "RETRIEVER", T0 + 48 * HOUR + 2 * MINUTE)
    feedback(traces, edge, "helpful", True)
    end = T0 + 50 * HOUR
    for flt in (
        "",
        TOOL,
        RETRIEVER,
        STAGING,
        f"{STAGING} AND {TOOL}",
        f"metadata.`{MODEL}` = 'm-1'",
    ):
        same(stores, exp, end=end, flt=flt)
    assert marks(stores, exp) == list(range(50))
    found = same(stores, exp, end=end, flt=RETRIEVER)
    assert (found.totals.traces, [(t.name, t.calls) for t in found.tools]) == (1, [("tool", 1)])
    assert found.scores[0].count == 1
    every = same(stores, exp, end=end)
    assert (every.totals.traces, sum(t.calls for t in every.tools)) == (16, 11)
