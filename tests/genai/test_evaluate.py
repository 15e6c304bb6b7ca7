"""heron.genai.evaluate with code scorers: every row traced, every score an assessment on its
trace, aggregates on the run (and the LoggedModel), failures kept as error assessments."""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
import pytest

import heron
import heron.genai as genai
from heron.entities.assessment import AssessmentKind, AssessmentSourceType
from heron.entities.trace import TraceState
from heron.errors import InvalidParameter
from heron.genai.scorers import Contains, ExactMatch, Latency, RegexMatch, ValidJson

QUESTIONS = [f"question {i}" for i in range(12)]


def _data() -> list[dict[str, Any]]:
    return [
        {
            "inputs": {"question": q},
            "expectations": {"expected_response": q.upper() if i % 3 else "?"},
        }
        for i, q in enumerate(QUESTIONS)
    ]


def app(question: str) -> str:
    return question.upper()


def test_evaluate_traces_each_row_and_stores_each_score(destination: str) -> None:
    heron.set_experiment("eval")
    result = genai.evaluate(_data(), predict_fn=app, scorers=[ExactMatch(), Contains()])

    assert result.metrics == {"exact_match/mean": 8 / 12, "contains/mean": 8 / 12}
    run = heron.get_run(result.run_id)
    assert run.data.tags["mlflow.runType"] == "genai_evaluate"  # MLflow's evaluation run tag
    assert {m.key: m.value for m in run.data.metrics} == pytest.approx(result.metrics)
    assert run.info.status == "FINISHED"
    assert len({r.trace_id for r in result.rows}) == len(QUESTIONS)
    for row in result.rows:
        trace = heron.get_trace(row.trace_id)
        assert trace.info.trace_metadata["mlflow.sourceRun"] == result.run_id
        assert trace.root_span is not None
        assert trace.root_span.outputs == row.outputs
        by_name = {a.name: a for a in trace.info.assessments}
        assert set(by_name) == {"exact_match", "contains", "expected_response"}
        assert by_name["expected_response"].kind is AssessmentKind.EXPECTATION
        assert by_name["expected_response"].source.source_type is AssessmentSourceType.HUMAN
        score = by_name["exact_match"]
        assert score.kind is AssessmentKind.FEEDBACK
        assert score.value == ("yes" if row.index % 3 else "no")
        assert score.source.source_type is AssessmentSourceType.CODE
        assert score.metadata["mlflow.assessment.sourceRunId"] == result.run_id
        assert score.span_id == trace.root_span.span_id


def test_a_failing_scorer_leaves_an_error_assessment_and_the_rest_goes_on(destination: str) -> None:
    @genai.scorer
    def fragile(outputs: str) -> bool:
        if outputs.endswith("3"):
            raise ValueError("cannot judge row three")
        return True

    result = genai.evaluate(_data(), predict_fn=app, scorers=[fragile, ExactMatch()])

    assert result.metrics["fragile/mean"] == 1.0  # the error is not counted as a score
    assert result.errors() == {"fragile": 1}
    failed = next(r for r in result.rows if r.outputs.endswith("3"))
    error = heron.get_trace(failed.trace_id).info.assessments
    fragile_score = next(a for a in error if a.name == "fragile")
    assert fragile_score.value is None
    assert fragile_score.error is not None
    assert fragile_score.error.error_code == "SCORER_ERROR"
    assert "cannot judge row three" in (fragile_score.error.error_message or "")
    assert {a.name for a in error} >= {"exact_match", "expected_response"}


def test_an_app_that_raises_marks_its_trace_error_and_is_still_scored(destination: str) -> None:
    def flaky(question: str) -> str:
        if question == "question 5":
            raise RuntimeError("upstream timeout")
        return question

    result = genai.evaluate(_data(), predict_fn=flaky, scorers=[ValidJson()])

    row = result.rows[5]
    assert row.error is not None
    assert "upstream timeout" in row.error
    trace = heron.get_trace(row.trace_id)
    assert trace.info.state is TraceState.ERROR
    assert {a.name for a in trace.info.assessments} >= {"valid_json"}
    assert len(result.rows) == len(QUESTIONS)


def test_custom_scorers_take_their_arguments_by_name(local: str) -> None:
    seen: list[set[str]] = []

    @genai.scorer
    def needs_expectations(inputs: dict[str, Any], expectations: dict[str, Any]) -> float:
        seen.append({"inputs", "expectations"})
        return float(len(inputs["question"]) + len(expectations))

    @genai.scorer(name="two_scores")
    def several(outputs: str, trace: Any) -> list[genai.Feedback]:
        assert trace.root_span.outputs == outputs
        return [
            genai.Feedback(name="long", value=len(outputs) > 10, rationale="length"),
            genai.Feedback(name="spans", value=len(trace.spans)),
        ]

    result = genai.evaluate(_data()[:3], predict_fn=app, scorers=[needs_expectations, several])

    assert result.metrics["needs_expectations/mean"] == pytest.approx(len("question 0") + 1)
    assert result.metrics["long/mean"] == 0.0
    assert result.metrics["spans/mean"] == 1.0
    long = next(a for a in heron.get_trace(result.rows[0].trace_id).info.assessments
                if a.name == "long")  # fmt: skip
    assert long.rationale == "length"


def test_a_scorer_with_an_unknown_parameter_is_refused_at_once() -> None:
    with pytest.raises(InvalidParameter, match="named from inputs, outputs"):

        @genai.scorer
        def wrong(answer: str) -> bool:
            return True


def test_outputs_in_a_dataframe_are_scored_without_an_app(destination: str) -> None:
    frame = pd.DataFrame(
        {
            "inputs": [{"q": "a"}, {"q": "b"}, {"q": "c"}],
            "outputs": ['{"x": 1}', "not json", "[1, 2]"],
        }
    )
    result = genai.evaluate(frame, scorers=[ValidJson(), RegexMatch(r"^\[")])

    assert result.metrics == {"valid_json/mean": 2 / 3, "regex_match/mean": 1 / 3}
    frame_out = result.result_df
    assert list(frame_out["valid_json/value"]) == ["yes", "no", "yes"]
    assert heron.get_trace(result.rows[1].trace_id).root_span.outputs == "not json"


def test_recorded_traces_are_scored_again_without_running_the_app(destination: str) -> None:
    heron.set_experiment("production")

    @heron.trace
    def answer(question: str) -> str:
        return f"answer to {question}"

    for q in QUESTIONS[:4]:
        answer(q)
    heron.flush_trace_async_logging()
    traces = heron.search_traces(max_results=10)
    assert len(traces) == 4

    result = genai.evaluate(traces, scorers=[Contains(substring="answer"), Latency()])

    assert result.metrics["contains/mean"] == 1.0
    assert {r.trace_id for r in result.rows} == {t.info.trace_id for t in traces}
    assert len(heron.search_traces(max_results=10)) == 4  # no new trace
    again = heron.get_trace(traces[0].info.trace_id)
    assert {a.name for a in again.info.assessments} == {"contains", "latency_ms"}


def test_metrics_link_to_the_logged_model_and_traces_name_it(destination: str) -> None:
    heron.set_experiment("versions")
    model = heron.create_external_model(name="agent-v2")

    result = genai.evaluate(
        _data(), predict_fn=app, scorers=[ExactMatch()], model_id=model.model_id
    )

    logged = heron.get_logged_model(model.model_id)
    assert {m.key: m.value for m in logged.metrics} == {"exact_match/mean": pytest.approx(8 / 12)}
    trace = heron.get_trace(result.rows[0].trace_id)
    assert trace.info.trace_metadata["mlflow.modelId"] == model.model_id


def test_rows_run_concurrently_sixteen_by_default(local: str) -> None:
    barrier = threading.Barrier(16, timeout=20)

    def meets_the_others(question: str) -> str:
        barrier.wait()  # breaks (and the row errs) unless 16 rows run at once
        return question

    result = genai.evaluate(_data() + _data()[:4], predict_fn=meets_the_others, scorers=[])

    assert [r.error for r in result.rows] == [None] * 16


def test_the_aggregations_a_scorer_asks_for_are_logged(local: str) -> None:
    @genai.scorer(aggregations=["min", "max", "median", "p90", "variance"])
    def size(outputs: str) -> int:
        return len(outputs)

    result = genai.evaluate(
        [{"inputs": {"q": str(i)}, "outputs": "x" * i} for i in range(1, 11)], scorers=[size]
    )

    assert result.metrics == {
        "size/min": 1.0, "size/max": 10.0, "size/median": 5.5, "size/p90": pytest.approx(9.1),
        "size/variance": pytest.approx(8.25),
    }  # fmt: skip


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "empty"),
        ("rows", "list of dicts"),
        ([{"inputs": "just text"}], "'inputs' must be a dict"),
        ([{"inputs": {"q": 1}, "answer": 2}], "unknown field"),
        ([{"inputs": {"q": 1}}], "no 'outputs' and no trace"),
        (
            [{"inputs": {"q": 1}, "outputs": 1, "expectations": [1]}],
            "'expectations' must be a dict",
        ),
    ],
    ids=[
        "empty",
        "a-string",
        "inputs-not-a-dict",
        "unknown-field",
        "nothing-to-score",
        "bad-expectations",
    ],
)
def test_bad_data_is_refused_with_what_to_fix(local: str, data: Any, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        genai.evaluate(data, scorers=[ValidJson()])


def test_bad_scorers_are_refused(local: str) -> None:
    with pytest.raises(InvalidParameter, match="not a scorer"):
        genai.evaluate([{"inputs": {"q": 1}, "outputs": 1}], scorers=[len])  # type: ignore[list-item]
    with pytest.raises(InvalidParameter, match="distinct name"):
        genai.evaluate([{"inputs": {"q": 1}, "outputs": 1}], scorers=[ValidJson(), ValidJson()])
    with pytest.raises(InvalidParameter, match="max_workers"):
        genai.evaluate([{"inputs": {"q": 1}, "outputs": 1}], scorers=[], max_workers=0)
