"""Browser tests of the GenAI views on a real server, on SQLite and on PostgreSQL: an agent's
traces recorded with Heron's tracing SDK over HTTP (two app versions, sessions, tool calls,
failures, token usage and cost, feedback and judge scores), then the overview's figures and
charts checked against what was logged, a point followed to its traces, a five-turn session
read in order, two turns compared, two versions compared, and the view switch."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from playwright.sync_api import expect
from tests.ui.conftest import sdk_tracking

TRACES = 20
FAILING = {3, 9, 15}
SESSION = "mlflow.trace.session"


@dataclass
class Agent:
    url: str
    experiment_id: str
    versions: dict[str, str]  # name -> LoggedModel id
    infos: list[Any] = field(default_factory=list)  # TraceInfo of each trace, in call order
    scores: dict[str, list[tuple[int, float]]] = field(default_factory=dict)  # name -> (i, v)


def percentile(values: Sequence[float], p: float) -> float | None:
    """PostgreSQL's percentile_cont, the definition the overview follows."""
    xs = sorted(values)
    if not xs:
        return None
    h = (len(xs) - 1) * p
    k = int(h)
    upper = xs[k + 1] if k + 1 < len(xs) else xs[k]
    return xs[k] + (h - k) * (upper - xs[k])


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ],
)
def agent(
    request: pytest.FixtureRequest, serve_settings: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Agent]:
    from heron.settings import Settings

    home = tmp_path_factory.mktemp("genai")
    server = request.getfixturevalue("postgres_server") if request.param == "postgresql" else None
    uri = server.create_database() if server else f"sqlite:///{home}/heron.db"
    try:
        settings = Settings(backend_store_uri=uri, artifacts_destination=str(home / "artifacts"))
        with serve_settings(settings) as url:
            yield _record(url)
    finally:
        if server:
            server.drop_database(uri)


def _record(url: str) -> Agent:
    import heron
    from heron import tracing
    from heron.client import HeronClient
    from heron.entities.trace import SpanType

    @tracing.trace(name="answer", span_type=SpanType.AGENT)
    def answer(question: str, i: int) -> str:
        tracing.update_current_trace(
            session=f"s{i // 5}", user=f"u{i % 3}", tags={"team": "blue" if i % 2 else "red"},
            metadata={"mlflow.source.type": "staging" if i % 4 == 0 else "production"},
        )  # fmt: skip
        with tracing.start_span("chat", span_type=SpanType.CHAT_MODEL) as span:
            span.set_inputs({"messages": [{"role": "user", "content": question}]})
            span.set_attributes({
                "mlflow.chat.tokenUsage": {"input_tokens": 10 + i, "output_tokens": i,
                                           "total_tokens": 10 + 2 * i},
                "mlflow.llm.cost": {"input_cost": 0.001 * i, "output_cost": 0.002},
            })  # fmt: skip
            time.sleep(0.003 * (i % 7))
            span.set_outputs({"choices": [{"message": {"content": f"answer {i}"}}]})
        if i % 2 == 0:
            try:
                with tracing.start_span("search", span_type=SpanType.TOOL):
                    time.sleep(0.001)
                    if i % 6 == 0:
                        raise LookupError("no hit")
            except LookupError:
                pass
        if i in FAILING:
            raise ValueError("kaput")
        return f"answer {i}"

    with sdk_tracking(url):
        agent = Agent(url, heron.set_experiment("agent-app").experiment_id, {})
        ids = []
        for i in range(TRACES):
            version = "agent-v1" if i < 12 else "agent-v2"
            agent.versions[version] = heron.set_active_model(name=version).model_id
            with contextlib.suppress(ValueError):
                answer(f"question {i}", i)
            ids.append(tracing.get_last_active_trace_id())
            time.sleep(0.002)  # distinct start times: the turns' order is known
        heron.clear_active_model()
        assert tracing.flush(timeout_s=60)
    with HeronClient(url) as client:
        _assess(client, agent, ids)
        agent.infos = [client.get_trace(t).info for t in ids]
    return agent


def _assess(client: Any, agent: Agent, ids: list[str]) -> None:
    for i, trace_id in enumerate(ids):
        if i % 2 == 0:
            client.log_feedback(trace_id, "relevance", i % 5, source="LLM_JUDGE")
            agent.scores.setdefault("relevance", []).append((i, float(i % 5)))
        if i % 3 == 0:
            client.log_feedback(trace_id, "user_feedback", i % 4 != 0, source="HUMAN")
            agent.scores.setdefault("user_feedback", []).append((i, float(i % 4 != 0)))
    client.log_feedback(
        ids[0], "conversation_quality", "yes", source="LLM_JUDGE", metadata={SESSION: "s0"}
    )


def overview_data(page: Any) -> dict[str, Any]:
    return dict(json.loads(page.locator("#overview-data").text_content()))


def test_overview_figures_match_the_traces_logged(page: Any, agent: Agent, screenshot: Any) -> None:
    page.goto(f"{agent.url}/experiments/{agent.experiment_id}")
    expect(page).to_have_url(f"{agent.url}/experiments/{agent.experiment_id}/overview")
    expect(page.locator("#view-genai")).to_have_attribute("aria-current", "page")
    expect(page.locator("#tab-overview")).to_have_attribute("aria-current", "page")
    expect(page.locator("#tab-evaluations")).to_have_attribute(
        "href", f"/experiments/{agent.experiment_id}/evaluations"
    )
    expect(page.locator("#tab-prompts")).to_have_attribute(
        "href", f"/experiments/{agent.experiment_id}/prompts"
    )
    infos = agent.infos
    durations = [i.execution_duration for i in infos]
    errors = sum(i.state == "ERROR" for i in infos)
    assert errors == len(FAILING)
    expect(page.locator("#total-traces")).to_have_text(str(TRACES))
    expect(page.locator("#total-errors")).to_have_text(str(errors))
    expected = " · ".join(f"{percentile(durations, p):.0f} ms" for p in (0.5, 0.9, 0.99))
    expect(page.locator("#total-latency")).to_have_text(expected)
    tokens_in = sum(10 + i for i in range(TRACES))
    tokens_out = sum(range(TRACES))
    expect(page.locator("#total-tokens")).to_have_text(f"{tokens_in:,} · {tokens_out:,}")
    cost = sum(0.001 * i + 0.002 for i in range(TRACES))
    expect(page.locator("#total-cost")).to_have_text(f"${cost:.4f}")
    for chart in ("volume", "errors", "latency", "tokens", "cost", "tools", "score-0"):
        expect(page.locator(f"#chart-{chart}")).to_have_attribute("data-ready", "1")
    data = overview_data(page)
    for k, (lo, hi) in enumerate(data["buckets"]):  # each point, from the traces in its range
        inside = [t for t in infos if lo <= t.request_time < hi]
        assert data["traces"][k] == len(inside)
        assert data["errors"][k] == sum(t.state == "ERROR" for t in inside)
        for p, key in ((0.5, "p50"), (0.9, "p90"), (0.99, "p99")):
            want = percentile([t.execution_duration for t in inside], p)
            assert data[key][k] == (None if want is None else pytest.approx(want))
        assert data["input_tokens"][k] == sum(t.token_usage.input_tokens for t in inside)
    scores = {s["name"]: s for s in data["scores"]}
    assert set(scores) == {"relevance", "user_feedback", "conversation_quality"}
    for name, values in agent.scores.items():
        row = page.locator(f"#scores-table tr[data-score='{name}'] td")
        mean = sum(v for _, v in values) / len(values)
        expect(row.nth(1)).to_have_text(str(len(values)))
        expect(row.nth(2)).to_have_text(f"{mean:.3f}")
    search = page.locator("#tools-table tr[data-tool='search'] td")
    expect(search.nth(1)).to_have_text(str(TRACES // 2))
    expect(search.nth(2)).to_have_text(str(len([i for i in range(0, TRACES, 2) if i % 6 == 0])))
    screenshot(page, "genai-overview")


def test_a_chart_point_opens_the_traces_behind_it(page: Any, agent: Agent) -> None:
    page.goto(f"{agent.url}/experiments/{agent.experiment_id}/overview?range=24h&grain=1d")
    chart = page.locator("#chart-volume[data-ready='1']")
    data = overview_data(page)
    k = next(k for k, n in enumerate(data["errors"]) if n)
    box = chart.bounding_box()
    x, y = page.evaluate(
        """([k]) => {
          const chart = echarts.getInstanceByDom(document.getElementById("chart-volume"));
          const d = JSON.parse(document.getElementById("overview-data").textContent);
          const top = d.traces[k];  // the error bar sits on top of the OK bar
          return chart.convertToPixel({seriesIndex: 1}, [d.buckets[k][0], top - d.errors[k] / 2]);
        }""",
        [k],
    )
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_url("**/traces?**")
    expect(page.locator("#trace-filter-string")).to_contain_text("trace.status = 'ERROR'")
    expect(page.locator("#traces-table tbody tr")).to_have_count(data["errors"][k])
    expect(page.locator("#traces-table .trace-status-ERROR")).to_have_count(data["errors"][k])


def test_filters_narrow_the_overview_and_stay_in_the_url(page: Any, agent: Agent) -> None:
    page.goto(f"{agent.url}/experiments/{agent.experiment_id}/overview")
    page.locator("#genai-version").select_option(agent.versions["agent-v2"])
    page.locator("#genai-user").fill("u1")
    page.locator("#genai-filters button[type=submit]").click()
    page.wait_for_url("**version=**")
    kept = [i for i in range(12, TRACES) if i % 3 == 1]
    expect(page.locator("#total-traces")).to_have_text(str(len(kept)))
    expect(page.locator("#genai-filter-string")).to_contain_text("metadata.`mlflow.trace.user`")
    page.locator("#tab-sessions").click()  # the window and filters travel with the tabs
    page.wait_for_url("**/sessions?**")
    assert "user=u1" in page.url
    assert agent.versions["agent-v2"] in page.url
    expect(page.locator("#genai-user")).to_have_value("u1")
    sessions = {f"s{i // 5}" for i in kept}
    expect(page.locator("#sessions-table tbody tr")).to_have_count(len(sessions))
    page.goto(f"{agent.url}/experiments/{agent.experiment_id}/overview?span_type=TOOL&env=staging")
    staging_with_tools = [i for i in range(TRACES) if i % 4 == 0]  # every one calls search
    expect(page.locator("#total-traces")).to_have_text(str(len(staging_with_tools)))
    page.goto(f"{agent.url}/experiments/{agent.experiment_id}/overview?grain=1m&range=30d")
    expect(page.locator("#genai-error")).to_contain_text("too many")


def test_a_five_turn_session_reads_in_order(page: Any, agent: Agent, screenshot: Any) -> None:
    page.goto(f"{agent.url}/experiments/{agent.experiment_id}/sessions")
    rows = page.locator("#sessions-table tbody tr")
    expect(rows).to_have_count(TRACES // 5)
    expect(rows.first).to_have_attribute("data-session-id", f"s{TRACES // 5 - 1}")  # latest first
    first = page.locator("#sessions-table tr[data-session-id='s0'] td")
    expect(first.nth(2)).to_have_text("5")
    expect(first.nth(1)).to_have_text("u0")
    page.locator("#sessions-table tr[data-session-id='s0'] a").click()
    page.wait_for_url("**/sessions/s0")
    turns = page.locator("#conversation .turn")
    expect(turns).to_have_count(5)
    expect(page.locator("#conversation .message.user .text")).to_have_text(
        [f"question {i}" for i in range(5)]
    )
    expect(page.locator("#conversation .message.assistant .text")).to_have_text(
        [f"answer {i}" if i not in FAILING else "" for i in range(5)]
    )
    for i in range(5):
        info = agent.infos[i]
        turn = turns.nth(i)
        expect(turn).to_have_attribute("data-trace-id", info.trace_id)
        expect(turn.locator(".turn-latency")).to_have_text(f"{info.execution_duration} ms")
        expect(turn.locator(".turn-tokens")).to_have_text(f"{10 + 2 * i} tokens")
    expect(turns.nth(3).locator(".trace-status-ERROR")).to_have_count(1)
    expect(page.locator("#session-assessments")).to_contain_text("conversation_quality")
    expect(turns.nth(0).locator(".turn-assessments")).to_contain_text("relevance: 0")
    expect(turns.nth(0).locator(".turn-assessments")).not_to_contain_text("conversation_quality")
    screenshot(page, "genai-session")


def test_two_turns_compared_side_by_side(page: Any, agent: Agent, screenshot: Any) -> None:
    page.goto(f"{agent.url}/experiments/{agent.experiment_id}/sessions/s0")
    page.locator(f"input[name=ids][value='{agent.infos[1].trace_id}']").check()
    page.locator(f"input[name=ids][value='{agent.infos[2].trace_id}']").check()
    page.locator("#compare-turns-button").click()
    page.wait_for_url("**/traces/compare?**")
    rows = page.locator("#aligned-spans tbody tr")
    expect(rows.locator(".span-name a")).to_have_text(["answer", "chat", "search"])
    search = rows.nth(2)
    expect(search.locator("td.missing")).to_have_count(1)  # only turn 2 called the tool
    expect(search.locator(".marks")).to_contain_text("missing")
    chat = rows.nth(1)
    expect(chat.locator(".marks")).to_contain_text("attributes")  # its token usage differs
    expect(chat.locator(".marks")).to_contain_text("inputs")
    chat.locator(".span-name a").click()
    page.wait_for_url("**row=1**")
    expect(page.locator(".compare-column pre.inputs").nth(0)).to_contain_text("question 1")
    expect(page.locator(".compare-column pre.inputs").nth(1)).to_contain_text("question 2")
    expect(
        page.locator("#compare-attributes tr.diff[data-key='mlflow.chat.tokenUsage']")
    ).to_have_count(1)
    expect(page.locator("#compare-summary tr.diff[data-field='Tokens']")).to_have_count(1)
    screenshot(page, "genai-trace-compare")


def test_versions_and_two_compared(page: Any, agent: Agent, screenshot: Any) -> None:
    page.goto(f"{agent.url}/experiments/{agent.experiment_id}/versions")
    v1, v2 = agent.versions["agent-v1"], agent.versions["agent-v2"]
    for model_id, calls in ((v1, range(12)), (v2, range(12, TRACES))):
        row = page.locator(f"#versions-table tr[data-model-id='{model_id}']")
        expect(row.locator(".traces-count")).to_have_text(str(len(calls)))
        failed = len([i for i in calls if i in FAILING])
        expect(row.locator(".error-rate")).to_have_text(f"{100 * failed / len(calls):.1f} %")
        values = [v for i, v in agent.scores["relevance"] if i in calls]
        expect(row.locator("td[data-score='relevance']")).to_contain_text(
            f"{sum(values) / len(values):.3f}"
        )
    screenshot(page, "genai-versions")
    page.locator(f"input[name=a][value='{v1}']").check()
    page.locator(f"input[name=b][value='{v2}']").check()
    page.locator("#compare-versions").click()
    page.wait_for_url("**/versions/compare?**")
    table = page.locator("#compare-versions-table")
    expect(table.locator("tr[data-field='traces'] td").nth(0)).to_have_text("12")
    expect(table.locator("tr[data-field='traces'] td").nth(1)).to_have_text(str(TRACES - 12))
    expect(table.locator("tr[data-field='traces'] td").nth(2)).to_have_text(f"{TRACES - 24:+d}")
    p50 = [
        percentile([t.execution_duration for t in agent.infos[a:b]], 0.5)
        for a, b in ((0, 12), (12, TRACES))
    ]
    expect(table.locator("tr[data-field='p50'] td").nth(0)).to_have_text(f"{p50[0]:.0f} ms")
    expect(table.locator("tr[data-field='p50'] td").nth(1)).to_have_text(f"{p50[1]:.0f} ms")


def test_switch_between_training_and_genai_views(page: Any, agent: Agent) -> None:
    page.goto(f"{agent.url}/experiments/{agent.experiment_id}/overview?range=24h")
    page.locator("#view-training").click()
    page.wait_for_url(f"**/experiments/{agent.experiment_id}/runs")
    expect(page.locator("#view-training")).to_have_attribute("aria-current", "page")
    expect(page.locator("#tab-runs")).to_have_attribute("aria-current", "page")
    expect(page.locator("#tab-overview")).to_have_count(0)
    page.locator("#view-genai").click()
    page.wait_for_url(f"**/experiments/{agent.experiment_id}/overview")
    page.locator("#tab-traces").click()
    expect(page.locator("#traces-table tbody tr")).to_have_count(TRACES)
    for trace in agent.infos[:3]:  # traces picked in the list, compared
        page.locator(f"#traces-table input[name=ids][value='{trace.trace_id}']").check()
    page.locator("#compare-traces").click()
    page.wait_for_url("**/traces/compare?**")
    expect(page.locator("#compare-summary thead th")).to_have_count(4)  # a label, 3 traces
