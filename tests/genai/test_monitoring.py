"""Registered scorers on production traces: saved in MLflow's serialized form and read back,
started with a sample rate and a filter, one pass of the worker scoring the traces each picks
(code scorers in the sandbox), nothing scored twice, stopped."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time

import pytest

import heron
import heron.genai as genai
from heron.entities.assessment import AssessmentSourceType
from heron.genai.monitoring import (
    SCORER_NAME,
    deserialize,
    register_scorer,
    score_new_traces,
    serialize,
    start_scorer,
    stop_scorer,
)
from heron.genai.sandbox import SandboxedScorer
from heron.genai.scorers import Guidelines, Safety
from heron.services.scorers import picked

from .judge_server import JudgeServer


@genai.scorer
def short(outputs: str) -> bool:
    return len(outputs) < 12


def test_scorers_round_trip_through_the_serialized_form() -> None:
    back = deserialize(serialize(Guidelines("Be brief", name="brief", model="judge")))
    assert isinstance(back, Guidelines)
    assert (back.name, back.guidelines, back.model) == ("brief", ["Be brief"], "judge")
    judge = genai.make_judge("tone", "Polite? {{ outputs }}")
    assert deserialize(serialize(judge)).instructions == "Polite? {{ outputs }}"  # type: ignore[attr-defined]
    code = deserialize(serialize(short))
    assert isinstance(code, SandboxedScorer)
    assert code(outputs="tiny") is True
    assert code(outputs="a long long answer") is False


def test_a_sandboxed_scorer_cannot_reach_heron_or_run_forever() -> None:
    reaching = SandboxedScorer("reach", "f", "def f(outputs):\n    import heron\n", ["outputs"])
    with pytest.raises(Exception, match="No module named 'heron'"):
        reaching(outputs="x")
    looping = SandboxedScorer("loop", "f", "def f(outputs):\n    while True: pass\n", ["outputs"])
    with pytest.raises(Exception, match=r"died in its sandbox|ran past"):
        looping(outputs="x")


def test_started_scorers_score_the_new_traces_they_pick(
    destination: str, judge: JudgeServer
) -> None:
    heron.set_experiment("production")

    @heron.trace
    def app(question: str) -> str:
        if question.endswith("7"):
            raise RuntimeError("boom")
        return f"A to {question}"

    for i in range(30):
        with contextlib.suppress(RuntimeError):
            app(f"q{i}")
    heron.flush_trace_async_logging()
    register_scorer(Safety(model="judge"))
    register_scorer(short)
    assert register_scorer(short).version == 2
    start_scorer("safety", 0.5)
    start_scorer("short", 1.0, filter_string="trace.status = 'OK'")

    done = score_new_traces(since_ms=0)

    traces = heron.search_traces(max_results=100)
    expected = {t.info.trace_id for t in traces if picked(t.info.trace_id, "safety", 0.5)}
    assert done == {"safety": len(expected), "short": 27}
    for trace in traces:
        by = {a.metadata.get(SCORER_NAME): a for a in trace.info.assessments}
        assert ("safety" in by) == (trace.info.trace_id in expected)
        if "safety" in by:
            assert by["safety"].source.source_type is AssessmentSourceType.LLM_JUDGE
            assert by["safety"].metadata["mlflow.assessment.scorerVersion"] == "1"
        if trace.info.state == "OK":
            assert by["short"].value is (len(trace.root_span.outputs) < 12)
            assert by["short"].metadata["mlflow.assessment.scorerVersion"] == "2"
    assert score_new_traces(since_ms=0) == {"safety": 0, "short": 0}  # nothing twice
    stop_scorer("safety")
    assert set(score_new_traces(since_ms=0)) == {"short"}


def test_the_job_worker_scores_new_traces_with_no_monitor_command(local: str) -> None:
    """`heron worker` (the one `heron server` starts) runs the started scorers' passes: scores
    appear on production traces while nobody runs `heron scorers monitor`."""
    heron.set_experiment("production")
    register_scorer(short)
    start_scorer("short", 1.0)
    worker = subprocess.Popen(
        [sys.executable, "-m", "heron.cli", "worker", "--monitor-interval", "0.5",
         "--backend-store-uri", f"sqlite:///{local}/heron.db",
         "--artifacts-destination", f"{local}/artifacts"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:

        @heron.trace
        def app(question: str) -> str:
            return f"A to {question}"

        questions = [f"q{i}" if i % 2 else f"question {i}" for i in range(5)]
        for question in questions:
            app(question)
        heron.flush_trace_async_logging()

        def scored() -> list[bool]:
            traces = heron.search_traces(max_results=10)
            found = [
                a.value
                for t in traces
                for a in t.info.assessments
                if a.metadata.get(SCORER_NAME) == "short"
            ]
            return found if len(found) == 5 else []

        deadline = time.monotonic() + 60
        while not (values := scored()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sorted(values) == sorted(len(f"A to {q}") < 12 for q in questions)  # 2 short
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode()
    assert worker.returncode == 0, output
    assert "Traceback" not in output
