"""Judge-human agreement on the Review tab in real Chromium, and over the API: six traces an
LLM judge and two reviewers assessed, with every figure worked out by hand."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect
from tests.genai.test_agreement import LABELS  # the same six traces, worked out by hand
from tests.ui.conftest import Demo, sdk_tracking


@pytest.fixture(scope="module")
def judged(demo: Demo) -> str:
    import heron
    from heron.entities.assessment import AssessmentSource, AssessmentSourceType

    judge = AssessmentSource(source_type=AssessmentSourceType.LLM_JUDGE, source_id="openai:/j")
    with sdk_tracking(demo.url):
        experiment_id = heron.set_experiment("ui-judge-agreement").experiment_id

        @heron.trace
        def app(i: int) -> int:
            return i

        for i in range(len(LABELS)):
            app(i)
        heron.flush_trace_async_logging()
        traces = sorted(heron.search_traces(max_results=10), key=lambda t: t.root_span.inputs["i"])
        for trace, (verdict, alice, bob) in zip(traces, LABELS, strict=True):
            tid = trace.info.trace_id
            heron.log_feedback(trace_id=tid, name="correct", value=verdict, source=judge)
            for who, label in (("alice", alice), ("bob", bob)):
                if label is not None:
                    human = AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id=who)
                    heron.log_feedback(trace_id=tid, name="correct", value=label, source=human)
    return str(experiment_id)


def test_agreement_on_the_review_tab(page: Any, demo: Demo, judged: str, screenshot: Any) -> None:
    page.goto(f"{demo.url}/experiments/{judged}/review")
    row = page.locator("#agreement-table tr[data-judge='correct']")
    # pairs (human, judge): TT TT FT FF FF TF -> 4 of 6 agree; both say pass half the time,
    # so chance agreement is 0.5 and kappa = (4/6 - 0.5) / 0.5 = 1/3
    expect(row.locator(".n")).to_have_text("6")
    expect(row.locator(".accuracy")).to_have_text("67%")
    expect(row.locator(".kappa")).to_have_text("0.33")
    # 2 of the 3 passing traces passed by the judge; Wilson 95%: 0.208 to 0.939
    expect(row.locator(".tpr")).to_have_text("67% [21%–94%] of 3")  # noqa: RUF001
    expect(row.locator(".fpr")).to_have_text("33% [6%–79%] of 3")  # noqa: RUF001
    # alice and bob on 4 traces: TT FF FT TT -> 3 of 4; chance 0.5*0.75 + 0.5*0.25 = 0.5
    expect(row.locator(".human-pairs")).to_have_text("4")
    expect(row.locator(".human-accuracy")).to_have_text("75%")
    expect(row.locator(".human-kappa")).to_have_text("0.50")
    screenshot(page, "judge-agreement")


def test_agreement_over_the_api(demo: Demo, judged: str) -> None:
    url = f"{demo.url}/api/2.0/heron/experiments/{judged}/judge-agreement"
    [found] = httpx.get(url, timeout=30).json()["judges"]
    assert (found["judge"], found["n"], found["human_pairs"]) == ("correct", 6, 4)
    assert found["kappa"] == pytest.approx(1 / 3)
    assert found["true_positive_rate"]["low"] == pytest.approx(0.20766, abs=1e-4)
    assert found["true_positive_rate"]["high"] == pytest.approx(0.93851, abs=1e-4)
    assert found["human_kappa"] == pytest.approx(0.5)
    none = httpx.get(url, params={"judge": "tone"}, timeout=30).json()["judges"]
    assert none[0]["n"] == 0
    assert none[0]["accuracy"] is None
    bad = httpx.get(url, params={"max_traces": "0"}, timeout=30)
    assert bad.status_code == 400
    assert "max_traces" in bad.json()["message"]
