"""`heron import --from-mlflow URL` from a running real `mlflow server` (3.17.2, from
.venv-conformance) holding runs, a model, a trace and a prompt logged by the real mlflow
client; checked field by field against what the mlflow client reads back."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.conftest import free_port, wait_for_health

from heron import HeronClient
from heron.cli.main import main

from .conftest import MLFLOW_PYTHON

pytestmark = pytest.mark.slow

RunMlflow = Callable[..., Any]


@pytest.fixture
def mlflow_server(tmp_path: Path) -> Iterator[str]:
    data = tmp_path / "mlflow"
    (data / "artifacts").mkdir(parents=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "HERON_"))}
    log = open(data / "server.log", "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            str(MLFLOW_PYTHON.parent / "mlflow"), "server", "--host", "127.0.0.1",
            "--port", str(port), "--backend-store-uri", f"sqlite:///{data}/mlflow.db",
            "--artifacts-destination", str(data / "artifacts"), "--serve-artifacts",
            "--workers", "1",
        ],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_health(url, timeout_s=120, alive=lambda: proc.poll() is None)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()


LOG_WITH_MLFLOW = """
import json
import mlflow
from mlflow import MlflowClient
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

X, y = load_iris(return_X_y=True, as_frame=True)
mlflow.set_experiment("moving-off")
with mlflow.start_run(run_name="parent") as parent:
    with mlflow.start_run(run_name="train", nested=True) as run:
        mlflow.log_param("C", "1.0")
        for step in range(30):
            mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
        mlflow.set_tag("stage", "dev")
        mlflow.log_text("some notes", "notes/readme.txt")
        info = mlflow.sklearn.log_model(
            LogisticRegression(max_iter=200).fit(X, y), name="clf",
            registered_model_name="iris",
        )

client = MlflowClient()
client.set_registered_model_alias("iris", "champion", "1")
client.set_registered_model_tag("iris", "owner", "ana")

@mlflow.trace
def answer(question):
    return "forty-two"

answer("what is it?")
trace_id = mlflow.get_last_active_trace_id()
mlflow.flush_trace_async_logging()
mlflow.log_feedback(trace_id=trace_id, name="correct", value=True, rationale="checked")
prompt = mlflow.genai.register_prompt(name="greeting", template="Hello {{name}}!")

full = client.get_run(run.info.run_id)
history = client.get_metric_history(run.info.run_id, "loss")
trace = mlflow.get_trace(trace_id)
print(json.dumps({
    "run_id": run.info.run_id, "parent_id": parent.info.run_id,
    "params": full.data.params, "start_time": full.info.start_time,
    "end_time": full.info.end_time, "status": full.info.status,
    "history": [[m.step, m.value, m.timestamp] for m in history],
    "model_id": info.model_id, "model_name": client.get_logged_model(info.model_id).name,
    "trace_id": trace_id, "spans": [s.name for s in trace.data.spans],
    "span_inputs": trace.data.spans[0].inputs, "span_outputs": trace.data.spans[0].outputs,
    "prompt_version": prompt.version,
}))
"""


def test_import_from_a_real_mlflow_server(
    mlflow_server: str, run_mlflow: RunMlflow, tmp_path: Path
) -> None:
    logged = run_mlflow(LOG_WITH_MLFLOW, MLFLOW_TRACKING_URI=mlflow_server)
    data = tmp_path / "heron"
    flags = ["--backend-store-uri", f"sqlite:///{data}/heron.db"]
    flags += ["--artifacts-destination", str(data / "artifacts")]
    result = CliRunner().invoke(main, ["import", "--from-mlflow", mlflow_server, *flags])
    assert result.exit_code == 0, result.output
    again = CliRunner().invoke(main, ["import", "--from-mlflow", mlflow_server, *flags])
    assert again.exit_code == 0, again.output
    assert "runs: 0 imported, 2 already" in again.output

    with HeronClient(str(data)) as heron:
        experiment = heron.get_experiment_by_name("moving-off")
        assert experiment is not None
        runs = {r.info.run_name: r for r in heron.search_runs([experiment.experiment_id])}
        run, parent = runs["train"], runs["parent"]
        assert run.data.tags["heron.source.run_id"] == logged["run_id"]
        assert run.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert run.data.tags["stage"] == "dev"
        assert dict(run.data.params) == logged["params"]
        assert (run.info.start_time, run.info.end_time, str(run.info.status)) == (
            logged["start_time"],
            logged["end_time"],
            logged["status"],
        )
        history = heron.get_metric_history(run.info.run_id, "loss")
        assert [[m.step, m.value, m.timestamp] for m in history] == logged["history"]
        assert heron.load_text(f"runs:/{run.info.run_id}/notes/readme.txt") == "some notes"

        (model,) = heron.search_logged_models([experiment.experiment_id])
        assert model.name == logged["model_name"]
        assert model.source_run_id == run.info.run_id
        assert model.tags["heron.source.model_id"] == logged["model_id"]
        files = {f.path for f in heron.backend.artifacts.list(model.artifact_location, "")}
        assert "MLmodel" in files
        registered = heron.get_registered_model("iris")
        assert registered.aliases == {"champion": "1"}
        assert registered.tags["owner"] == "ana"
        version = heron.get_model_version("iris", "1")
        assert version.model_id == model.model_id
        assert version.run_id == run.info.run_id

        prompt = heron.get_registered_model("greeting")
        assert prompt.tags["mlflow.prompt.is_prompt"] == "true"
        prompt_version = heron.get_model_version("greeting", str(logged["prompt_version"]))
        assert prompt_version.tags["mlflow.prompt.text"] == "Hello {{name}}!"

        trace = heron.get_trace(logged["trace_id"])
        assert trace.info.experiment_id == experiment.experiment_id
        assert [s.name for s in trace.spans] == logged["spans"]
        assert trace.spans[0].inputs == logged["span_inputs"]
        assert trace.spans[0].outputs == logged["span_outputs"]
        (feedback,) = trace.info.assessments
        assert (feedback.name, feedback.value, feedback.rationale) == ("correct", True, "checked")


READ_WITH_MLFLOW = """
import json
import mlflow
from mlflow import MlflowClient

client = MlflowClient()
experiment = client.get_experiment_by_name("to-mlflow")
(run,) = client.search_runs([experiment.experiment_id])
history = client.get_metric_history(run.info.run_id, "loss")
files = sorted(a.path for a in client.list_artifacts(run.info.run_id, "notes"))
local = mlflow.artifacts.download_artifacts(run_id=run.info.run_id, artifact_path="notes/a.txt")
version = client.get_model_version("exported", "1")
model = client.get_registered_model("exported")
traces = mlflow.search_traces(locations=[experiment.experiment_id], return_type="list")
print(json.dumps({
    "params": run.data.params, "tags": {k: v for k, v in run.data.tags.items()},
    "history": [[m.step, m.value, m.timestamp] for m in history], "files": files,
    "text": open(local).read(), "version_run_id": version.run_id,
    "aliases": model.aliases, "traces": [t.info.trace_id for t in traces],
    "spans": [[s.name for s in t.data.spans] for t in traces],
}))
"""


def test_export_to_a_real_mlflow_server(
    mlflow_server: str, run_mlflow: RunMlflow, tmp_path: Path
) -> None:
    import secrets

    from heron.entities import Metric
    from heron.entities.trace import Span

    data = tmp_path / "heron"
    with HeronClient(str(data)) as heron:
        experiment_id = heron.create_experiment("to-mlflow")
        run_id = heron.create_run(experiment_id, run_name="r").info.run_id
        heron.log_param(run_id, "lr", "0.1")
        points = [
            Metric(key="loss", value=1 / (s + 1), timestamp=1000 + s, step=s) for s in range(50)
        ]
        heron.log_batch(run_id, metrics=points)
        heron.log_text(run_id, "hello", "notes/a.txt")
        heron.set_terminated(run_id)
        heron.create_registered_model("exported")
        heron.create_model_version("exported", f"runs:/{run_id}/notes", run_id=run_id)
        heron.set_registered_model_alias("exported", "prod", "1")
        trace_id = "tr-" + secrets.token_hex(16)
        span = Span(
            trace_id=trace_id, span_id=secrets.token_hex(8), parent_span_id=None, name="root",
            start_time_ns=10**18, end_time_ns=10**18 + 10**6, inputs={"q": 1}, outputs={"a": 2},
        )  # fmt: skip
        heron.log_spans(experiment_id, [span])
    flags = ["--backend-store-uri", f"sqlite:///{data}/heron.db"]
    flags += ["--artifacts-destination", str(data / "artifacts")]
    result = CliRunner().invoke(main, ["export", "--to-mlflow", mlflow_server, *flags])
    assert result.exit_code == 0, result.output

    seen = run_mlflow(READ_WITH_MLFLOW, MLFLOW_TRACKING_URI=mlflow_server)
    assert seen["params"] == {"lr": "0.1"}
    assert seen["tags"]["heron.source.run_id"] == run_id
    assert seen["history"] == [[m.step, m.value, m.timestamp] for m in points]
    assert seen["files"] == ["notes/a.txt"]
    assert seen["text"] == "hello"
    assert seen["aliases"] == {"prod": "1"}
    assert seen["traces"] == [trace_id]
    assert seen["spans"] == [["root"]]
