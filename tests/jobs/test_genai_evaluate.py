"""A deployment job that evaluates a GenAI app: each new version of the app answers an
evaluation dataset's questions through `heron.genai.evaluate`, is scored, and is made the
champion only when its mean score meets the threshold; a worse version stops at evaluate."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.jobs.polling import state_is, wait_for

from heron.entities.deployment_jobs import RunState

ANSWERS = {"capital of France?": "Paris", "2 + 2?": "4", "colour of the sky?": "blue"}
APP = """
import heron.models
from heron.pyfunc import PythonModel

ANSWERS = {answers!r}

class App(PythonModel):
    def predict(self, context, model_input, params=None):
        question = model_input["question"]
        question = question if isinstance(question, str) else question.iloc[0]
        return {reply}

heron.models.set_model(App())
"""
JOB = """
tasks:
  - name: evaluate
    type: evaluate
    model_type: genai
    dataset: capitals
    scorers: [ExactMatch]
    thresholds:
      exact_match/mean: {threshold: 0.9}
  - {name: deploy, type: deploy, alias: champion}
"""


@pytest.fixture
def fluent(worker: Any) -> Iterator[None]:
    """The fluent API logs through the worker's client (the test's database)."""
    import heron
    from heron.client.fluent import state

    state.use_client(worker.client)
    yield
    heron.set_tracking_uri(None)


def _app_version(services: Any, tmp_path: Path, reply: str) -> str:
    import heron
    import heron.pyfunc

    code = tmp_path / f"app_{len(list(tmp_path.glob('app_*.py')))}.py"
    code.write_text(textwrap.dedent(APP.format(answers=ANSWERS, reply=reply)))
    with heron.start_run():
        info = heron.pyfunc.log_model(name="app", python_model=str(code))
    made = services.registry.create_model_version("assistant", info.model_uri)
    return str(made.version)


def _run(services: Any, version: str) -> Any:
    run = services.job_runs.latest_run("assistant", version)
    assert run is not None
    return run


def test_a_genai_app_version_is_evaluated_on_a_dataset_and_gated_by_its_score(
    services: Any, worker: Any, fluent: None, tmp_path: Path
) -> None:
    import heron
    from heron import genai

    heron.set_experiment("assistant-dev")
    dataset = genai.datasets.create_dataset(name="capitals")
    dataset.merge_records(
        [
            {"inputs": {"question": q}, "expectations": {"expected_response": a}}
            for q, a in ANSWERS.items()
        ]
    )
    job = services.deployment_jobs.create_job("assistant-release", JOB)
    services.registry.create_registered_model("assistant", deployment_job_id=job.job_id)

    good = _app_version(services, tmp_path, "ANSWERS.get(question, 'no idea')")
    done = wait_for(lambda: _run(services, good), state_is(RunState.SUCCEEDED, RunState.FAILED),
                    timeout_s=120)  # fmt: skip
    assert done.state == RunState.SUCCEEDED, done.failure_reason
    evaluate = done.tasks[0]
    assert evaluate.metrics["exact_match/mean"] == 1.0
    assert services.registry.get_model_version_by_alias("assistant", "champion").version == good
    run = heron.get_run(evaluate.detail["evaluation_run_id"])  # the evaluation, with its scores
    assert {m.key: m.value for m in run.data.metrics}["exact_match/mean"] == 1.0

    bad = _app_version(services, tmp_path, "'no idea'")
    stopped = wait_for(lambda: _run(services, bad),
                       state_is(RunState.SUCCEEDED, RunState.FAILED), timeout_s=120)  # fmt: skip
    assert stopped.state == RunState.FAILED
    assert stopped.current_task == "evaluate"
    assert "exact_match/mean" in (stopped.failure_reason or "")
    assert stopped.tasks[0].metrics["exact_match/mean"] == 0.0
    assert services.registry.get_model_version_by_alias("assistant", "champion").version == good
