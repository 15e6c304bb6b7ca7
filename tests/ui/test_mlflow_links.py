"""The links the mlflow client prints (http://host/#/experiments/1/runs/<id>) and MLflow's other
UI addresses (models, versions, logged models, traces, prompts) open Heron's page for the same
thing in a real browser."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.interop.conftest import run_mlflow_code
from tests.ui.conftest import Demo

pytestmark = pytest.mark.slow

MLFLOW_SIDE = """
import contextlib, io, json
import mlflow
from mlflow import MlflowClient

printed = io.StringIO()
with contextlib.redirect_stdout(printed):
    mlflow.set_experiment("printed-links")
    with mlflow.start_run(run_name="linked") as run:
        mlflow.log_metric("m", 1.0)
    with mlflow.start_span(name="linked-trace") as span:
        pass
    mlflow.flush_trace_async_logging()
client = MlflowClient()
model = client.create_logged_model(run.info.experiment_id, name="linked-model")
client.create_registered_model("linked-registered")
client.create_model_version(
    "linked-registered", f"models:/{model.model_id}", model_id=model.model_id
)
print(json.dumps({"printed": printed.getvalue(), "run_id": run.info.run_id,
                  "experiment_id": run.info.experiment_id, "trace_id": span.trace_id,
                  "model_id": model.model_id}))
"""


def test_the_links_the_mlflow_client_prints_open_heron_pages(
    demo: Demo, page: Any, tmp_path: Path
) -> None:
    seen = run_mlflow_code(MLFLOW_SIDE, tmp_path, MLFLOW_TRACKING_URI=demo.url)
    printed = re.findall(r"https?://\S+", seen["printed"])
    run_link = next(u for u in printed if "/runs/" in u)
    experiment_link = next(u for u in printed if "/runs/" not in u)
    assert run_link == f"{demo.url}/#/experiments/{seen['experiment_id']}/runs/{seen['run_id']}"
    exp, run, trace, model = (
        seen["experiment_id"], seen["run_id"], seen["trace_id"], seen["model_id"]
    )  # fmt: skip
    u = demo.url
    cases = [
        (run_link, f"/runs/{run}", "linked"),
        (experiment_link, f"/experiments/{exp}", "printed-links"),
        (f"{u}/#/experiments/{exp}/runs/{run}/artifactPath/x", f"/runs/{run}/artifacts", ""),
        (f"{u}/#/models/linked-registered", "/models/linked-registered", "linked-registered"),
        (f"{u}/#/models/linked-registered/versions/1", "/models/linked-registered/versions/1",
         "Version 1"),
        (f"{u}/#/experiments/{exp}/models/{model}", f"/logged-models/{model}", "linked-model"),
        (f"{u}/#/experiments/{exp}/traces?selectedEvaluationId={trace}", f"/traces/{trace}",
         "linked-trace"),
        (f"{u}/#/experiments/{exp}/traces", f"/experiments/{exp}/traces", ""),
        (f"{u}/#/compare-runs?runs=[%22{run}%22]&experiments=[%22{exp}%22]",
         f"/compare?runs={run}", ""),
    ]  # fmt: skip
    for link, path, text in cases:
        page.goto(link)
        page.wait_for_url(f"{demo.url}{path}", timeout=10_000)
        if text:
            assert text in page.locator("main").inner_text(), link
