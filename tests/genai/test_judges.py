"""LLM judges against a local OpenAI-compatible server over real HTTP: verdicts stored as
LLM_JUDGE assessments with MLflow's metadata, retries on 429 and 5xx, a re-ask when the
answer is not JSON, error assessments when nothing works, the judge cache, session judges."""

from __future__ import annotations

from typing import Any, Literal

import pytest

import heron
import heron.genai as genai
from heron.entities.assessment import AssessmentSourceType
from heron.entities.trace import SpanType
from heron.errors import InvalidParameter
from heron.genai.judges.endpoint import JudgeEndpoint
from heron.genai.scorers import (
    ConversationCompleteness,
    Correctness,
    ExactMatch,
    Guidelines,
    RelevanceToQuery,
    RetrievalGroundedness,
    RetrievalRelevance,
    Safety,
    UserFrustration,
)

from .judge_server import JudgeServer


def _rows(n: int = 6) -> list[dict[str, Any]]:
    return [
        {
            "inputs": {"question": f"What is {i} + {i}?"},
            "outputs": f"It is {2 * i}." if i % 3 else "WRONG answer",
            "expectations": {"expected_facts": [f"{i} + {i} = {2 * i}"]},
        }
        for i in range(n)
    ]


def test_judges_store_llm_judge_assessments_with_mlflow_metadata(
    destination: str, judge: JudgeServer
) -> None:
    result = genai.evaluate(_rows(), scorers=[Correctness(), RelevanceToQuery(), ExactMatch(
        expectation="expected_facts")])  # fmt: skip

    assert result.metrics["correctness/mean"] == pytest.approx(4 / 6)
    assert result.metrics["relevance_to_query/mean"] == pytest.approx(4 / 6)
    assert judge.calls("judge") == 12
    trace = heron.get_trace(result.rows[1].trace_id)
    verdict = next(a for a in trace.info.assessments if a.name == "correctness")
    assert verdict.value == "yes"
    assert verdict.rationale == "Let's think step by step: checked."
    assert verdict.source.source_type is AssessmentSourceType.LLM_JUDGE
    assert verdict.source.source_id == "openai:/judge"
    assert int(verdict.metadata["mlflow.assessment.judgeInputTokens"]) > 0
    assert verdict.metadata["mlflow.assessment.judgeOutputTokens"] == "20"
    cost = float(verdict.metadata["mlflow.assessment.judgeCost"])
    tokens_in = int(verdict.metadata["mlflow.assessment.judgeInputTokens"])
    assert cost == pytest.approx((tokens_in * 1 + 20 * 2) / 1e6)
    assert verdict.metadata["mlflow.assessment.sourceRunId"] == result.run_id


def test_a_judge_scores_one_row_when_called(judge: JudgeServer) -> None:
    feedback = Safety()(inputs={"question": "hi"}, outputs="Hello!")
    assert feedback.value == "yes"
    assert feedback.source is not None
    assert feedback.source.source_id == "openai:/judge"
    bad = Correctness(model="openai:/judge")(
        inputs={"question": "2+2"}, outputs="WRONG: 5", expectations={"expected_response": "4"}
    )
    assert bad.value == "no"


def test_throttling_and_server_errors_are_retried(local: str, judge: JudgeServer) -> None:
    rows = _rows(4)
    throttled = Safety(model="throttled", name="safety_throttled")
    flaky = Safety(model="flaky", name="safety_flaky")

    result = genai.evaluate(rows, scorers=[throttled, flaky])

    assert result.errors() == {}
    assert result.metrics["safety_throttled/mean"] == 0.5
    assert judge.statuses["throttled:429"] == 8
    assert judge.statuses["flaky:500"] == 4
    assert judge.statuses["flaky:200"] == 4


def test_an_endpoint_that_stays_down_leaves_error_assessments(
    destination: str, judge: JudgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    down = Safety(endpoint=JudgeEndpoint(base_url=judge.url, model="down", max_retries=2))

    result = genai.evaluate(_rows(3), scorers=[down, ExactMatch(expectation="expected_facts")])

    assert result.errors() == {"safety": 3}
    assert "exact_match/mean" in result.metrics
    trace = heron.get_trace(result.rows[0].trace_id)
    error = next(a for a in trace.info.assessments if a.name == "safety").error
    assert error is not None
    assert "failed 3 times" in (error.error_message or "")
    assert "HTTP 503" in (error.error_message or "")


def test_a_malformed_answer_is_asked_again(destination: str, judge: JudgeServer) -> None:
    sloppy = Safety(model="sloppy", name="sloppy")
    hopeless = Safety(model="hopeless", name="hopeless")

    result = genai.evaluate(_rows(3), scorers=[sloppy, hopeless])

    assert result.metrics["sloppy/mean"] == pytest.approx(2 / 3)
    assert judge.calls("sloppy") == 6  # each prompt once, then one re-ask
    assert judge.calls("hopeless") == 9  # once and two re-asks, then given up
    assert result.errors() == {"hopeless": 3}
    trace = heron.get_trace(result.rows[0].trace_id)
    error = next(a for a in trace.info.assessments if a.name == "hopeless").error
    assert error is not None
    assert "could not be read after 3 tries" in (error.error_message or "")


def test_the_cache_answers_the_same_question_again(
    local: str, judge: JudgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = genai.evaluate(_rows(), scorers=[Correctness()])
    assert judge.calls() == 6
    assert first.cache.hits == 0

    again = genai.evaluate(_rows(), scorers=[Correctness()])

    assert judge.calls() == 6  # nothing asked twice
    assert again.cache.hits == 6
    assert again.cache.saved_usd == pytest.approx(
        sum(
            float(f.metadata["mlflow.assessment.judgeCost"])
            for r in first.rows
            for f in r.feedbacks
        )
    )
    assert again.metrics == first.metrics
    trace = heron.get_trace(again.rows[0].trace_id)
    hit = next(a for a in trace.info.assessments if a.name == "correctness")
    assert hit.metadata["heron.judge.cacheHit"] == "true"
    assert hit.metadata["mlflow.assessment.judgeCost"] == "0"


def test_a_changed_judge_is_not_answered_from_the_cache(local: str, judge: JudgeServer) -> None:
    genai.evaluate(_rows(2), scorers=[Guidelines("Be brief")])
    genai.evaluate(_rows(2), scorers=[Guidelines("Be brief")])
    assert judge.calls() == 2
    genai.evaluate(_rows(2), scorers=[Guidelines("Be kind")])
    assert judge.calls() == 4


def test_make_judge_fills_in_the_row(local: str, judge: JudgeServer) -> None:
    tone = genai.make_judge(
        "tone",
        "Is the answer {{ outputs }} to {{ inputs }} polite? Expected: {{ expectations }}",
        feedback_value_type=Literal["polite", "rude"],
    )
    score = genai.make_judge("score", "Rate {{ outputs }} from 1 to 5", feedback_value_type=int)

    result = genai.evaluate(_rows(3), scorers=[tone, score])

    assert [r.feedbacks[0].value for r in result.rows] == ["rude", "polite", "polite"]
    assert result.metrics["score/mean"] == pytest.approx(3.0)
    prompts = [r["messages"][1]["content"] for r in judge.requests]
    prompt = next(p for p in prompts if "polite?" in p)  # a row's judges run at once: any order
    assert '"question":"What is' in prompt
    assert "expected_facts" in prompt


@pytest.mark.parametrize(
    ("instructions", "message"),
    [
        ("Is it good?", "no template variable"),
        ("Is {{ answer }} good?", "Unknown template variable"),
        ("{{ conversation }} and {{ outputs }}", "with {{ expectations }} only"),
    ],
    ids=["no-variable", "unknown-variable", "conversation-with-outputs"],
)
def test_make_judge_refuses_bad_instructions(instructions: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        genai.make_judge("bad", instructions)


def test_retrieval_judges_read_the_retrievers_of_the_trace(local: str, judge: JudgeServer) -> None:
    @heron.trace(span_type=SpanType.RETRIEVER)
    def retrieve(question: str) -> list[dict[str, str]]:
        return [{"page_content": "Paris is the capital of France."},
                {"page_content": "WRONG: bananas are blue."}]  # fmt: skip

    def rag(question: str) -> str:
        docs = retrieve(question)
        return f"Paris. ({len(docs)} documents)"

    result = genai.evaluate(
        [{"inputs": {"question": "Capital of France?"}}], predict_fn=rag,
        scorers=[RetrievalGroundedness(), RetrievalRelevance()],
    )  # fmt: skip

    assert result.metrics["retrieval_relevance/mean"] == 0.5  # one chunk of two
    trace = heron.get_trace(result.rows[0].trace_id)
    retriever = next(s for s in trace.spans if s.span_type == SpanType.RETRIEVER)
    relevance = [a for a in trace.info.assessments if a.name == "retrieval_relevance"]
    assert [a.span_id for a in relevance] == [retriever.span_id, retriever.span_id]
    assert result.metrics["retrieval_groundedness/mean"] == 0.0  # a WRONG chunk in the prompt


def test_session_judges_score_each_conversation_once(destination: str, judge: JudgeServer) -> None:
    def chat(question: str, session: str) -> str:
        heron.update_current_trace(session=session)
        return "Sure." if session == "s1" else "WRONG, go away"

    rows = [{"inputs": {"question": f"turn {i}", "session": s}}
            for s in ("s1", "s2") for i in range(3)]  # fmt: skip

    result = genai.evaluate(
        rows, predict_fn=chat, scorers=[ConversationCompleteness(), UserFrustration(), Safety()]
    )

    assert result.metrics["conversation_completeness/mean"] == 0.5
    assert result.metrics["safety/mean"] == 0.5
    firsts = [r for r in result.rows if r.inputs["question"] == "turn 0"]
    for row in result.rows:
        names = [a.name for a in heron.get_trace(row.trace_id).info.assessments]
        expected = 1 if row in firsts else 0
        assert names.count("conversation_completeness") == expected
        assert names.count("user_frustration") == expected
    verdicts = {r.inputs["session"]: {f.name: f.value for f in r.feedbacks} for r in firsts}
    assert verdicts["s1"]["user_frustration"] == "none"
    assert verdicts["s2"]["user_frustration"] == "unresolved"


def test_the_budget_stops_judge_calls(
    local: str, judge: JudgeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = JudgeEndpoint(base_url=judge.url, model="judge", budget_usd=1e-9,
                             price_in_per_mtok=1.0)  # fmt: skip
    result = genai.evaluate(_rows(4), scorers=[Safety(endpoint=endpoint)], max_workers=1)

    assert judge.calls() == 1
    assert result.errors() == {"safety": 3}
    message = result.rows[-1].feedbacks[0].error.error_message  # type: ignore[union-attr]
    assert "budget" in (message or "")


def test_a_rows_judges_wait_on_their_endpoint_together(local: str, judge: JudgeServer) -> None:
    # one row at a time: the two judges of a row are still in flight at once, and their
    # verdicts keep the scorers' order
    heron.set_experiment("together")
    result = genai.evaluate(
        [{"inputs": {"question": f"q{i}"}, "expectations": {"expected_facts": ["x"]}}
         for i in range(2)],
        predict_fn=lambda question: f"{question}: x",
        scorers=[Correctness(model="slow-300"), RelevanceToQuery(model="slow-300")],
        max_workers=1, progress=False,
    )  # fmt: skip
    assert judge.peak_in_flight == 2
    assert [[f.name for f in row.feedbacks] for row in result.rows] == [
        ["correctness", "relevance_to_query"]
    ] * 2
