"""Tracking both ways through one Heron server: what MLflow 3.17.2's client logs (params,
metrics with steps, tags, batches, nested runs, dataset inputs) Heron's SDK reads back, what
Heron's SDK logs the mlflow client reads and searches, and `heron.HeronClient()` follows
`heron.set_tracking_uri` as `MlflowClient()` follows mlflow's."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import heron

pytestmark = pytest.mark.slow
RunMlflow = Callable[..., Any]


def test_what_mlflow_logs_heron_reads(server: str, run_mlflow: RunMlflow) -> None:
    logged = run_mlflow(
        """
import json
import mlflow
from mlflow.entities import Metric, Param, RunTag
import pandas as pd

mlflow.set_experiment("from-mlflow")
with mlflow.start_run(run_name="parent") as parent:
    mlflow.log_params({"lr": 0.01, "layers": 3})
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.set_tags({"team": "blue"})
    mlflow.log_input(mlflow.data.from_pandas(pd.DataFrame({"x": [1, 2]}), name="train"),
                     context="training")
    mlflow.MlflowClient().log_batch(parent.info.run_id, metrics=[Metric("acc", 0.75, 5, 7)],
                                    params=[Param("opt", "adam")], tags=[RunTag("k", "v")])
    with mlflow.start_run(run_name="child", nested=True) as child:
        mlflow.log_metric("nan", float("nan"))
print(json.dumps({"parent": parent.info.run_id, "child": child.info.run_id,
                  "experiment": parent.info.experiment_id}))
""",
        MLFLOW_TRACKING_URI=server,
    )
    with heron.HeronClient(server) as client:
        _check_logged(client, logged)


def _check_logged(client: heron.HeronClient, logged: dict[str, str]) -> None:
    run = client.get_run(logged["parent"])
    assert run.info.run_name == "parent"
    assert run.info.status == "FINISHED"
    assert dict(run.data.params) == {"lr": "0.01", "layers": "3", "opt": "adam"}
    assert run.data.tags["team"] == "blue"
    assert run.data.tags["k"] == "v"
    history = client.get_metric_history(logged["parent"], "loss")
    assert [(m.step, m.value) for m in history] == [(0, 1.0), (1, 0.5), (2, 1.0 / 3)]
    acc = client.get_metric_history(logged["parent"], "acc")[0]
    assert (acc.value, acc.timestamp, acc.step) == (0.75, 5, 7)
    assert [d.dataset.name for d in run.dataset_inputs] == ["train"]
    child = client.get_run(logged["child"])
    assert child.data.tags["mlflow.parentRunId"] == logged["parent"]
    assert math.isnan(client.get_metric_history(logged["child"], "nan")[0].value)
    found = client.search_runs(
        [logged["experiment"]], filter_string="metrics.acc > 0.5 AND params.opt = 'adam'"
    )
    assert [r.info.run_id for r in found] == [logged["parent"]]


def test_what_heron_logs_mlflow_reads_and_searches(server: str, run_mlflow: RunMlflow) -> None:
    heron.set_tracking_uri(server)
    heron.set_experiment("from-heron")
    with heron.start_run(run_name="heron-run") as run:
        heron.log_params({"depth": 4})
        heron.log_metric("auc", 0.91, step=2)
        heron.set_tag("owner", "ann")
    read = run_mlflow(
        f"""
import json
import mlflow
client = mlflow.MlflowClient()
run = client.get_run({run.info.run_id!r})
history = client.get_metric_history(run.info.run_id, "auc")
found = mlflow.search_runs(experiment_names=["from-heron"], filter_string="params.depth = '4'",
                           output_format="list")
print(json.dumps({{"name": run.info.run_name, "status": run.info.status,
                   "params": run.data.params, "tags": run.data.tags["owner"],
                   "auc": [[m.value, m.step] for m in history],
                   "found": [r.info.run_id for r in found]}}))
""",
        MLFLOW_TRACKING_URI=server,
    )
    assert read == {
        "name": "heron-run",
        "status": "FINISHED",
        "params": {"depth": "4"},
        "tags": "ann",
        "auc": [[0.91, 2]],
        "found": [run.info.run_id],
    }


def test_heron_client_follows_set_tracking_uri(
    server: str, run_mlflow: RunMlflow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # where ./heron-data would appear
    monkeypatch.delenv("HERON_HOME", raising=False)
    heron.set_tracking_uri(server)
    with heron.HeronClient() as client:
        assert client.tracking_uri == server
        experiment_id = client.create_experiment("followed")
    assert not (tmp_path / "heron-data").exists()
    seen = run_mlflow(
        """
import json, mlflow
print(json.dumps(mlflow.get_experiment_by_name("followed").experiment_id))
""",
        MLFLOW_TRACKING_URI=server,
    )
    assert seen == experiment_id
    heron.set_tracking_uri(None)
    with heron.HeronClient() as client:
        assert client.tracking_uri != server
