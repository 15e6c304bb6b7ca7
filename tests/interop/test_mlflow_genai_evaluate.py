"""`mlflow.genai.evaluate` from the real mlflow 3.17.2 client, with its results stored in Heron:
the evaluation run with its metrics and tag, each row's trace with the scorer's assessment,
read back by Heron's SDK."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import heron

pytestmark = pytest.mark.slow

RunMlflow = Callable[..., Any]


def test_mlflow_genai_evaluate_stores_its_results_in_heron(
    live_server: str, run_mlflow: RunMlflow
) -> None:
    result = run_mlflow(
        """
import json
import mlflow
from mlflow.genai.scorers import scorer

mlflow.set_experiment("mlflow-evals")

@scorer
def short(outputs) -> bool:
    return len(outputs) < 5

def app(question):
    return question.upper()

data = [{"inputs": {"question": q}, "expectations": {"expected_response": q.upper()}}
        for q in ("a", "bb", "long question")]
r = mlflow.genai.evaluate(data=data, predict_fn=app, scorers=[short])
print(json.dumps({"run_id": r.run_id, "metrics": r.metrics}))
""",
        MLFLOW_TRACKING_URI=live_server,
    )
    assert result["metrics"] == {"short/mean": pytest.approx(2 / 3)}
    client = heron.HeronClient(live_server)
    try:
        run = client.get_run(result["run_id"])
        assert run.data.tags["mlflow.runType"] == "genai_evaluate"
        assert {m.key: m.value for m in run.data.metrics} == {"short/mean": pytest.approx(2 / 3)}
        traces = client.search_traces([run.info.experiment_id], run_id=result["run_id"]).items
        assert len(traces) == 3
        for trace in traces:
            names = {a.name for a in trace.info.assessments}
            assert names == {"short", "expected_response"}
    finally:
        client.close()
