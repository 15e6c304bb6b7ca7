"""Judge-human agreement on stored traces: accuracy, Cohen's kappa, true and false positive
rates with Wilson intervals, and the agreement of two people as the ceiling."""

from __future__ import annotations

import pytest

import heron
import heron.genai as genai
from heron.entities.assessment import AssessmentSource, AssessmentSourceType
from heron.services.judge_agreement import kappa, wilson

# (judge, alice, bob) per trace: the judge errs on trace 2 (a false positive) and trace 5 (a miss)
LABELS = [
    ("yes", True, True),
    ("yes", True, None),
    ("yes", False, False),
    ("no", False, True),
    ("no", False, None),
    ("no", True, True),
]
JUDGE = AssessmentSource(source_type=AssessmentSourceType.LLM_JUDGE, source_id="openai:/judge")


def _human(name: str) -> AssessmentSource:
    return AssessmentSource(source_type=AssessmentSourceType.HUMAN, source_id=name)


def test_agreement_of_a_judge_with_reviewers(local: str) -> None:
    heron.set_experiment("review")

    @heron.trace
    def app(i: int) -> int:
        return i

    for i in range(6):
        app(i)
    heron.flush_trace_async_logging()
    traces = sorted(heron.search_traces(max_results=10), key=lambda t: t.root_span.inputs["i"])
    for trace, (verdict, alice, bob) in zip(traces, LABELS, strict=True):
        tid = trace.info.trace_id
        heron.log_feedback(trace_id=tid, name="correct", value=verdict, source=JUDGE)
        heron.log_feedback(trace_id=tid, name="correct", value=alice, source=_human("alice"))
        if bob is not None:
            heron.log_feedback(trace_id=tid, name="correct", value=bob, source=_human("bob"))

    report = genai.judge_agreement(heron.search_traces(max_results=10), "correct")

    assert report.n == 6
    assert report.accuracy == pytest.approx(4 / 6)
    # pairs (human, judge): 4 of 6 agree; each says pass half the time, so chance is 0.5
    assert report.kappa == pytest.approx((4 / 6 - 0.5) / 0.5)
    assert report.true_positive_rate.value == pytest.approx(2 / 3)
    assert report.false_positive_rate.value == pytest.approx(1 / 3)
    assert report.true_positive_rate.low < 2 / 3 < report.true_positive_rate.high
    assert report.human_pairs == 4
    assert report.human_accuracy == pytest.approx(3 / 4)
    # alice passes 2 of 4, bob 3 of 4: chance 0.5 * 0.75 + 0.5 * 0.25 = 0.5
    assert report.human_kappa == pytest.approx((3 / 4 - 0.5) / 0.5)
    assert report.true_positive_rate.low == pytest.approx(0.20766, abs=1e-4)  # Wilson, by hand
    assert report.true_positive_rate.high == pytest.approx(0.93851, abs=1e-4)


def test_kappa_and_intervals() -> None:
    assert kappa([(True, True), (False, False)]) == 1.0
    assert kappa([(True, False), (False, True)]) == -1.0
    assert kappa([]) is None
    rate = wilson(0, 10)
    assert rate.value == 0.0
    assert rate.low == 0.0
    assert rate.high == pytest.approx(0.2775, abs=1e-3)
    assert wilson(0, 0).value is None
