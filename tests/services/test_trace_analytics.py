"""TraceAnalyticsService on SQLite and PostgreSQL: the overview's buckets, percentiles, tokens,
cost, scores and tool calls; filters; sessions and their pages; app versions; with field
encryption on. Every figure is checked against what the test logged, computed here in Python."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from heron.entities.assessment import (
    Assessment,
    AssessmentKind,
    AssessmentSource,
    AssessmentSourceType,
)
from heron.entities.trace import Span, SpanStatusCode, TraceInfo, TraceState
from heron.errors import InvalidParameter
from heron.services import AllowAll
from heron.services.trace_analytics import TraceAnalyticsService, buckets
from heron.services.traces import TraceService
from heron.store.crypto.fields import field_cipher
from heron.store.crypto.keys import create_key_file
from heron.store.sql import open_sql_stores

HOUR = 3_600_000
T0 = 1_780_000_000_000 // HOUR * HOUR  # ms, on an hour
SESSION, USER, MODEL = "mlflow.trace.session", "mlflow.trace.user", "mlflow.modelId"
NOT_A_TOKEN = "bm90IGEgdG9rZW4"  # noqa: S105 - base64 of "not a token"
OVERRIDE = Assessment(
    assessment_id="", trace_id="", name="", kind=AssessmentKind.FEEDBACK, value=False,
    source=AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id="reviewer"),
)  # fmt: skip


def percentile(values: Sequence[float], p: float) -> float | None:
    """PostgreSQL's percentile_cont, in Python: the reference the service must match."""
    xs = sorted(values)
    if not xs:
        return None
    h = (len(xs) - 1) * p
    k = int(h)
    upper = xs[k + 1] if k + 1 < len(xs) else xs[k]
    return xs[k] + (h - k) * (upper - xs[k])


@pytest.fixture
def traces(stores: Any) -> Iterator[TraceService]:
    service = TraceService(stores.traces, stores.assessments, AllowAll(), prune_interval_s=None)
    yield service
    service.close()


@pytest.fixture
def analytics(stores: Any) -> TraceAnalyticsService:
    return TraceAnalyticsService(stores.trace_analytics, AllowAll())


@pytest.fixture
def exp(stores: Any) -> str:
    name = f"analytics-{uuid.uuid4().hex[:6]}"
    return str(stores.experiments.create_experiment(name, artifact_location=None, tags={}))


def log_trace(
    traces: TraceService,
    exp: str,
    *,
    at_ms: int,
    duration_ms: int,
    error: bool = False,
    tokens: tuple[int, int] | None = None,
    cost: float | None = None,
    tools: Sequence[tuple[str, int, bool]] = (),  # name, duration in ms, failed
    metadata: dict[str, str] | None = None,
    tags: dict[str, str] | None = None,
) -> str:
    """One trace as an agent logs it over OTLP: a root span, a chat model span carrying the
    token usage and cost, tool spans; tags and metadata on the root."""
    tid = "tr-" + uuid.uuid4().hex
    start = at_ms * 1_000_000
    root = uuid.uuid4().hex[:16]
    attributes: dict[str, Any] = {}
    if tokens:
        attributes["mlflow.chat.tokenUsage"] = {
            "input_tokens": tokens[0], "output_tokens": tokens[1],
            "total_tokens": tokens[0] + tokens[1],
        }  # fmt: skip
    if cost is not None:
        attributes["mlflow.llm.cost"] = {"input_cost": cost / 4, "output_cost": cost * 3 / 4}
    spans = [
        Span(trace_id=tid, span_id=root, parent_span_id=None, name="agent", span_type="AGENT",
             status=SpanStatusCode.ERROR if error else SpanStatusCode.OK, start_time_ns=start,
             end_time_ns=start + duration_ms * 1_000_000, inputs={"q": "hi"}, outputs="ok",
             attributes={"heron.traceMetadata": metadata or {}, "heron.traceTags": tags or {}}),
        Span(trace_id=tid, span_id=uuid.uuid4().hex[:16], parent_span_id=root, name="chat",
             span_type="CHAT_MODEL", status=SpanStatusCode.OK, start_time_ns=start,
             end_time_ns=start + 1_000_000, attributes=attributes),
    ]  # fmt: skip
    for name, ms, failed in tools:
        spans.append(
            Span(trace_id=tid, span_id=uuid.uuid4().hex[:16], parent_span_id=root, name=name,
                 span_type="TOOL", status=SpanStatusCode.ERROR if failed else SpanStatusCode.OK,
                 start_time_ns=start + 500_000, end_time_ns=start + 500_000 + ms * 1_000_000)
        )  # fmt: skip
    traces.log_spans(exp, spans)
    return tid


def feedback(
    traces: TraceService,
    trace_id: str,
    name: str,
    value: Any,
    *,
    source: AssessmentSourceType = AssessmentSourceType.LLM_JUDGE,
    kind: AssessmentKind = AssessmentKind.FEEDBACK,
    metadata: dict[str, str] | None = None,
) -> Assessment:
    return traces.create_assessment(
        Assessment(
            assessment_id="",
            trace_id=trace_id,
            name=name,
            kind=kind,
            value=value,
            source=AssessmentSource(source_type=source, source_id="judge"),
            metadata=metadata or {},
        )
    )


def test_buckets_follow_the_grain_and_clip_to_the_window() -> None:
    assert buckets(T0 + 10, T0 + 2 * HOUR + 5, HOUR) == [
        (T0 + 10, T0 + HOUR), (T0 + HOUR, T0 + 2 * HOUR), (T0 + 2 * HOUR, T0 + 2 * HOUR + 5),
    ]  # fmt: skip
    week = 7 * 24 * HOUR
    (first, *_rest) = buckets(T0, T0 + 3 * week, week)
    monday_ms = 4 * 24 * HOUR  # 1970-01-05
    assert (first[1] - monday_ms) % week == 0  # weeks start on Mondays
    for start, end, grain in ((5, 5, HOUR), (0, HOUR, 10), (0, 10_000 * HOUR, HOUR)):
        with pytest.raises(InvalidParameter):
            buckets(start, end, grain)


def test_overview_counts_errors_percentiles_tokens_and_cost(
    traces: TraceService, analytics: TraceAnalyticsService, exp: str
) -> None:
    durations = {0: [120, 80, 4000, 250, 90, 333], 1: [10, 20], 2: [], 3: [700]}
    errors = {0: 2, 1: 0, 3: 1}
    expected_cost = 0.0
    for hour, values in durations.items():
        for i, ms in enumerate(values):
            cost = 0.001 * (i + 1)
            expected_cost += cost
            log_trace(
                traces, exp, at_ms=T0 + hour * HOUR + i * 1000, duration_ms=ms,
                error=i < errors.get(hour, 0), tokens=(10 * (i + 1), i), cost=cost,
            )  # fmt: skip
    log_trace(traces, exp, at_ms=T0 - 1, duration_ms=5)  # just before the window
    found = analytics.overview(exp, start_ms=T0, end_ms=T0 + 4 * HOUR, grain_ms=HOUR)
    assert [b.traces for b in found.buckets] == [6, 2, 0, 1]
    assert [b.errors for b in found.buckets] == [2, 0, 0, 1]
    for bucket, values in zip(found.buckets, durations.values(), strict=True):
        for p, got in zip((0.5, 0.9, 0.99), dataclasses.astuple(bucket.latency), strict=True):
            assert got == pytest.approx(percentile(values, p))
        assert bucket.input_tokens == sum(10 * (i + 1) for i in range(len(values)))
        assert bucket.output_tokens == sum(range(len(values)))
        assert bucket.total_tokens == bucket.input_tokens + bucket.output_tokens
    everything = [ms for values in durations.values() for ms in values]
    assert found.totals.traces == 9
    assert found.totals.errors == 3
    assert found.totals.latency.p90 == pytest.approx(percentile(everything, 0.9))
    assert found.totals.cost == pytest.approx(expected_cost)
    assert sum(b.cost for b in found.buckets) == pytest.approx(expected_cost)


def test_scores_count_numbers_booleans_and_yes_no_of_valid_feedback(
    traces: TraceService, analytics: TraceAnalyticsService, exp: str
) -> None:
    first = log_trace(traces, exp, at_ms=T0 + 10, duration_ms=5)
    second = log_trace(traces, exp, at_ms=T0 + HOUR + 10, duration_ms=5)
    feedback(traces, first, "relevance", 4)
    feedback(traces, first, "safe", "yes")
    feedback(traces, first, "user_feedback", True, source=AssessmentSourceType.HUMAN)
    feedback(traces, second, "relevance", 2.5)
    feedback(traces, second, "safe", "No")
    feedback(traces, second, "tone", "friendly")  # no number: counted out of the mean
    feedback(traces, second, "relevance", 99, kind=AssessmentKind.EXPECTATION)  # not a score
    old = feedback(traces, second, "user_feedback", True, source=AssessmentSourceType.HUMAN)
    traces.override_assessment(second, old.assessment_id, OVERRIDE)  # the True is no longer valid
    found = analytics.overview(exp, start_ms=T0, end_ms=T0 + 2 * HOUR, grain_ms=HOUR)
    scores = {s.name: s for s in found.scores}
    assert scores["relevance"].count == 2
    assert scores["relevance"].mean == pytest.approx(3.25)
    assert [(p.count, p.mean) for p in scores["relevance"].points] == [(1, 4.0), (1, 2.5)]
    assert scores["safe"].mean == pytest.approx(0.5)
    assert scores["tone"].count == 0
    assert scores["tone"].mean is None
    assert [p.mean for p in scores["user_feedback"].points] == [1.0, 0.0]


def test_tool_calls_by_name_with_errors_and_latency(
    traces: TraceService, analytics: TraceAnalyticsService, exp: str
) -> None:
    search_ms = [30, 50, 70, 400]
    for i, ms in enumerate(search_ms):
        log_trace(
            traces, exp, at_ms=T0 + i * HOUR, duration_ms=ms + 10,
            tools=[("search", ms, i == 3), *([("calc", 5, False)] if i % 2 else [])],
        )  # fmt: skip
    found = analytics.overview(exp, start_ms=T0, end_ms=T0 + 4 * HOUR, grain_ms=2 * HOUR)
    tools = {t.name: t for t in found.tools}
    assert [t.name for t in found.tools] == ["search", "calc"]  # most called first
    assert (tools["search"].calls, tools["search"].errors) == (4, 1)
    assert tools["search"].latency.p50 == pytest.approx(percentile(search_ms, 0.5))
    assert tools["search"].latency.p99 == pytest.approx(percentile(search_ms, 0.99))
    assert [(p.calls, p.errors) for p in tools["search"].points] == [(2, 0), (2, 1)]
    assert [p.calls for p in tools["calc"].points] == [1, 1]


def test_filters_narrow_traces_scores_and_tools_alike(
    traces: TraceService, analytics: TraceAnalyticsService, exp: str
) -> None:
    for i in range(6):
        tid = log_trace(
            traces, exp, at_ms=T0 + i, duration_ms=100 + i, tools=[("search", 3, False)],
            metadata={USER: f"u{i % 2}", MODEL: "m-" + "a" * 32 if i < 4 else "m-" + "b" * 32,
                      "mlflow.source.type": "production" if i else "staging"},
            tags={"team": "blue" if i % 3 == 0 else "red"},
        )  # fmt: skip
        feedback(traces, tid, "relevance", i)
    window = {"start_ms": T0, "end_ms": T0 + HOUR, "grain_ms": HOUR}
    cases = {
        f"metadata.`{USER}` = 'u1'": [1, 3, 5],
        f"metadata.`{MODEL}` = 'm-{'b' * 32}'": [4, 5],
        "metadata.`mlflow.source.type` = 'staging'": [0],
        "tags.team = 'blue'": [0, 3],
        "span.type = 'TOOL' AND execution_time_ms >= 104": [4, 5],
    }
    for filter_string, kept in cases.items():
        found = analytics.overview(exp, filter_string=filter_string, **window)
        assert found.totals.traces == len(kept), filter_string
        assert found.scores[0].mean == pytest.approx(sum(kept) / len(kept)), filter_string
        assert found.tools[0].calls == len(kept), filter_string
    with pytest.raises(InvalidParameter):
        analytics.overview(exp, filter_string="nonsense ==", **window)


def test_a_user_filter_finds_each_users_traces_short_or_long(
    traces: TraceService, analytics: TraceAnalyticsService, exp: str
) -> None:
    """The user is kept in an indexed column when it fits (250 characters); a longer one is
    still found, through the metadata."""
    long_user = "u" * 300
    for i, user in enumerate(["ana", "ana", "bo", long_user]):
        log_trace(traces, exp, at_ms=T0 + i, duration_ms=10, metadata={USER: user})
    window = {"start_ms": T0, "end_ms": T0 + HOUR, "grain_ms": HOUR}
    for user, count in (("ana", 2), ("bo", 1), (long_user, 1), ("nobody", 0)):
        found = analytics.overview(exp, filter_string=f"metadata.`{USER}` = '{user}'", **window)
        assert found.totals.traces == count, user
    found = analytics.overview(exp, filter_string=f"metadata.`{USER}` IN ('bo', 'ana')", **window)
    assert found.totals.traces == 3


def test_session_and_cost_come_from_the_metadata_an_mlflow_client_sends(
    traces: TraceService, analytics: TraceAnalyticsService, exp: str
) -> None:
    tid = "tr-" + uuid.uuid4().hex
    traces.start_trace(
        TraceInfo(
            trace_id=tid, experiment_id=exp, request_time=T0 + 5, execution_duration=40,
            state=TraceState.OK,
            trace_metadata={SESSION: "chat-1", "mlflow.trace.cost": '{"input_cost": 0.5, '
                            '"output_cost": 0.25, "total_cost": 0.75}', MODEL: "m-x"},
        )
    )  # fmt: skip
    found = analytics.overview(exp, start_ms=T0, end_ms=T0 + HOUR, grain_ms=HOUR)
    assert found.totals.cost == pytest.approx(0.75)
    (session,) = analytics.sessions(exp, start_ms=T0, end_ms=T0 + HOUR).items
    assert (session.session_id, session.turns, session.duration_ms) == ("chat-1", 1, 40)
    (version,) = analytics.versions(exp, ["m-x"], start_ms=T0, end_ms=T0 + HOUR)
    assert version.traces == 1
    long_id = "s" * 300  # not kept in the column: listed under no session, still searchable
    log_trace(traces, exp, at_ms=T0 + 6, duration_ms=1, metadata={SESSION: long_id})
    assert len(analytics.sessions(exp, start_ms=T0, end_ms=T0 + HOUR).items) == 1
    page = traces.search_traces([exp], filter_string=f"metadata.`{SESSION}` = '{long_id}'")
    assert len(page.items) == 1


def test_sessions_latest_first_paged_with_turns_tokens_and_first_request(
    traces: TraceService, analytics: TraceAnalyticsService, exp: str
) -> None:
    for s in range(7):
        for turn in range(s % 3 + 1):
            log_trace(
                traces, exp, at_ms=T0 + s * 1000 + turn * 10, duration_ms=turn + 1,
                error=turn == 1, tokens=(turn, 1),
                metadata={SESSION: f"s{s}", USER: f"user{s}"},
            )  # fmt: skip
    log_trace(traces, exp, at_ms=T0, duration_ms=1)  # no session
    seen = []
    token = None
    while True:
        page = analytics.sessions(
            exp, start_ms=T0, end_ms=T0 + HOUR, max_results=3, page_token=token
        )
        seen += list(page.items)
        token = page.next_page_token
        if token is None:
            break
    assert [s.session_id for s in seen] == [f"s{s}" for s in reversed(range(7))]
    by_id = {s.session_id: s for s in seen}
    assert by_id["s5"].turns == 3
    assert by_id["s5"].errors == 1
    assert by_id["s5"].total_tokens == (0 + 1) + (1 + 1) + (2 + 1)
    assert by_id["s5"].duration_ms == 1 + 2 + 3
    assert by_id["s5"].first_ms == T0 + 5000
    assert by_id["s5"].last_ms == T0 + 5020
    assert by_id["s5"].user == "user5"
    assert by_id["s5"].first_request == '{"q":"hi"}'
    with pytest.raises(InvalidParameter):
        analytics.sessions(exp, start_ms=T0, end_ms=T0 + HOUR, page_token=NOT_A_TOKEN)
    first = analytics.sessions(exp, start_ms=T0, end_ms=T0 + HOUR, max_results=1)
    with pytest.raises(InvalidParameter):  # a token of another window
        analytics.sessions(exp, start_ms=T0 + 1, end_ms=T0 + HOUR, page_token=first.next_page_token)
    assert list(analytics.sessions(exp, start_ms=T0 + HOUR, end_ms=T0 + 2 * HOUR).items) == []


def test_versions_with_volume_latency_errors_scores_and_prompts(
    traces: TraceService, analytics: TraceAnalyticsService, exp: str
) -> None:
    a, b = "m-" + "a" * 32, "m-" + "b" * 32
    plan = {a: [100, 200, 300], b: [50, 60], None: [7]}
    for model_id, values in plan.items():
        for i, ms in enumerate(values):
            tid = log_trace(
                traces, exp, at_ms=T0 + i, duration_ms=ms, error=model_id == a and i == 0,
                tokens=(1, 1), metadata={MODEL: model_id} if model_id else {},
                tags={"mlflow.linkedPrompts": '[{"name": "qa", "version": "2"}]'}
                if model_id == b else {},
            )  # fmt: skip
            feedback(traces, tid, "relevance", ms / 100)
    found = analytics.versions(exp, [b, a, "m-none"], start_ms=T0, end_ms=T0 + HOUR)
    assert [v.model_id for v in found] == [b, a, "m-none", None]
    stats = {v.model_id: v for v in found}
    assert (stats[a].traces, stats[a].errors, stats[a].total_tokens) == (3, 1, 6)
    assert stats[a].latency.p50 == pytest.approx(200)
    assert stats[b].latency.p90 == pytest.approx(percentile([50, 60], 0.9))
    assert stats[a].scores["relevance"] == (3, pytest.approx(2.0))
    assert [(p.name, p.version) for p in stats[b].prompts] == [("qa", "2")]
    assert stats["m-none"].traces == 0
    assert stats["m-none"].latency.p50 is None
    assert stats[None].traces == 1


def test_scores_follow_a_version_named_after_the_feedback(
    traces: TraceService, analytics: TraceAnalyticsService, exp: str
) -> None:
    """Feedback logged before its trace names its version still counts for that version."""
    tid = log_trace(traces, exp, at_ms=T0 + 5, duration_ms=10)
    feedback(traces, tid, "relevance", 4)
    info = traces.get_trace_info(tid)
    traces.start_trace(dataclasses.replace(info, trace_metadata={MODEL: "m-late"}))
    (version,) = analytics.versions(exp, ["m-late"], start_ms=T0, end_ms=T0 + HOUR)
    assert version.traces == 1
    assert version.scores == {"relevance": (1, 4.0)}


def test_sealed_first_requests_open_and_sealed_content_filters_are_refused(
    database_uri: str, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys.json"
    create_key_file(key_file)
    sealed = open_sql_stores(
        database_uri,
        default_artifact_root="mlflow-artifacts:",
        fields=field_cipher(str(key_file), cache_s=0),
    )
    service = TraceService(sealed.traces, sealed.assessments, AllowAll(), prune_interval_s=None)
    views = TraceAnalyticsService(sealed.trace_analytics, AllowAll())
    try:
        exp = str(sealed.experiments.create_experiment("sealed", artifact_location=None, tags={}))
        log_trace(service, exp, at_ms=T0, duration_ms=1, metadata={SESSION: "s1"})
        (session,) = views.sessions(exp, start_ms=T0, end_ms=T0 + HOUR).items
        assert session.first_request == '{"q":"hi"}'
        with pytest.raises(InvalidParameter, match=r"span\.content"):
            views.sessions(
                exp, start_ms=T0, end_ms=T0 + HOUR, filter_string="span.content LIKE '%hi%'"
            )
        with pytest.raises(InvalidParameter, match=r"span\.content"):
            views.overview(
                exp, start_ms=T0, end_ms=T0 + HOUR, grain_ms=HOUR,
                filter_string="span.content LIKE '%hi%'",
            )  # fmt: skip
    finally:
        service.close()
        sealed.close()
