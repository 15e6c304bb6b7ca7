"""Tracing both ways through one Heron server with MLflow 3.17.2's client: its traces (spans,
tags, metadata, assessments) Heron's SDK reads; Heron's traces it reads and searches; traces
linked to a run afterwards (`client.link_traces_to_run`, POST /traces/link-to-run) and to
prompt versions (`client.link_prompt_versions_to_trace`, POST /traces/link-prompts)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

import heron

pytestmark = pytest.mark.slow
RunMlflow = Callable[..., Any]


MLFLOW_TRACES = """
import json
import mlflow
from mlflow import MlflowClient

mlflow.set_experiment("mlflow-traces")
client = MlflowClient()

@mlflow.trace(span_type="CHAIN")
def answer(question):
    mlflow.update_current_trace(tags={"team": "red"}, session_id="s-1", user="ann")
    with mlflow.start_span(name="retrieve", span_type="RETRIEVER") as span:
        span.set_inputs({"q": question})
        span.set_outputs(["doc"])
    return "42"

answer("why?")
mlflow.flush_trace_async_logging()
first = mlflow.get_last_active_trace_id()
mlflow.log_feedback(trace_id=first, name="correct", value=True, rationale="ok")
mlflow.log_expectation(trace_id=first, name="answer", value="42")

@mlflow.trace
def later():
    return 1

later()
mlflow.flush_trace_async_logging()
second = mlflow.get_last_active_trace_id()
with mlflow.start_run(run_name="linked") as run:
    pass
client.link_traces_to_run([second, "tr-" + "0" * 32], run.info.run_id)
prompt = mlflow.genai.register_prompt("linked-prompt", "Hello {{name}}")
client.link_prompt_versions_to_trace([prompt], second)
direct = mlflow.genai.register_prompt("direct-prompt", "Bye {{name}}")
client._tracking_client.store.link_prompts_to_trace(second, [direct])  # the route alone
by_run = mlflow.search_traces(run_id=run.info.run_id, return_type="list")
by_prompt = mlflow.search_traces(filter_string="prompt = 'linked-prompt/1'", return_type="list")
by_feedback = mlflow.search_traces(filter_string="feedback.correct = 'true'", return_type="list")
tagged = mlflow.search_traces(filter_string="tags.team IS NOT NULL", return_type="list")
print(json.dumps({
    "first": first, "second": second, "run_id": run.info.run_id,
    "by_run": [t.info.trace_id for t in by_run],
    "by_prompt": [t.info.trace_id for t in by_prompt],
    "by_feedback": [t.info.trace_id for t in by_feedback],
    "tagged": [t.info.trace_id for t in tagged],
}))
"""


def test_mlflow_traces_links_and_searches_on_heron(server: str, run_mlflow: RunMlflow) -> None:
    seen = run_mlflow(MLFLOW_TRACES, MLFLOW_TRACKING_URI=server)
    assert seen["by_run"] == [seen["second"]]
    assert seen["by_prompt"] == [seen["second"]]
    assert seen["by_feedback"] == [seen["first"]]
    assert seen["tagged"] == [seen["first"]]
    with heron.HeronClient(server) as client:
        trace = client.get_trace(seen["first"])
        assert trace.info.tags["team"] == "red"
        assert trace.info.trace_metadata["mlflow.trace.session"] == "s-1"
        assert trace.info.trace_metadata["mlflow.trace.user"] == "ann"
        assert {s.name for s in trace.spans} == {"answer", "retrieve"}
        retrieve = next(s for s in trace.spans if s.name == "retrieve")
        assert (retrieve.span_type, retrieve.inputs, retrieve.outputs) == (
            "RETRIEVER",
            {"q": "why?"},
            ["doc"],
        )
        names = {a.name: a.value for a in trace.info.assessments}
        assert names == {"correct": True, "answer": "42"}
        linked = client.get_trace(seen["second"])
        links = json.loads(linked.info.tags["mlflow.linkedPrompts"])
        assert links == [
            {"name": "linked-prompt", "version": "1"},
            {"name": "direct-prompt", "version": "1"},
        ]


def test_heron_traces_read_and_searched_by_mlflow(server: str, run_mlflow: RunMlflow) -> None:
    heron.set_tracking_uri(server)
    heron.set_experiment("heron-traces")

    @heron.trace(name="heron-agent")
    def agent(question: str) -> str:
        return question.upper()

    agent("hi")
    heron.flush_trace_async_logging()
    trace_id = heron.get_last_active_trace_id()
    assert trace_id is not None
    read = run_mlflow(
        f"""
import json, mlflow
trace = mlflow.get_trace({trace_id!r})
exp = mlflow.get_experiment_by_name("heron-traces").experiment_id
found = mlflow.search_traces(locations=[exp], return_type="list")
print(json.dumps({{"name": trace.info.tags.get("mlflow.traceName"),
                   "spans": [s.name for s in trace.data.spans],
                   "outputs": trace.data.spans[0].outputs,
                   "found": [t.info.trace_id for t in found]}}))
""",
        MLFLOW_TRACKING_URI=server,
    )
    assert read == {
        "name": "heron-agent",
        "spans": ["heron-agent"],
        "outputs": "HI",
        "found": [trace_id],
    }


def test_link_to_run_refuses_what_mlflow_refuses(server: str, run_mlflow: RunMlflow) -> None:
    seen = run_mlflow(
        """
import json
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
client = MlflowClient()
run = client.create_run("0")
answers = {}
for name, ids, run_id in (("too_many", ["tr-%032x" % i for i in range(101)], run.info.run_id),
                          ("no_run", ["tr-" + "0" * 32], "f" * 32)):
    try:
        client.link_traces_to_run(ids, run_id)
        answers[name] = "linked"
    except MlflowException as exc:
        answers[name] = exc.error_code
print(json.dumps(answers))
""",
        MLFLOW_TRACKING_URI=server,
    )
    assert seen == {"too_many": "INVALID_PARAMETER_VALUE", "no_run": "RESOURCE_DOES_NOT_EXIST"}
