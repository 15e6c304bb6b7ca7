"""The real mlflow 3.17.2 client against `heron server --enable-workspaces`: its workspace
calls (create, list, get, update, delete) and `mlflow.set_workspace` scoping experiments,
runs, artifacts and registered models to the workspace it names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from heron.settings import Settings

pytestmark = pytest.mark.slow

RunMlflow = Callable[..., Any]


@pytest.fixture
def server(tmp_path: Path, serve_settings: Any) -> Iterator[str]:
    settings = Settings(
        backend_store_uri=f"sqlite:///{tmp_path}/heron.db",
        artifacts_destination=str(tmp_path / "artifacts"),
        enable_workspaces=True,
    )
    with serve_settings(settings) as url:
        yield url


def test_mlflow_workspace_calls_and_scoping(server: str, run_mlflow: RunMlflow) -> None:
    result = run_mlflow(
        """
import json, mlflow
from mlflow import MlflowClient

made = mlflow.create_workspace("team-a", description="team a")
mlflow.update_workspace("team-a", description="the A team")
seen = {}
for workspace in ("team-a", "default"):
    mlflow.set_workspace(workspace)
    mlflow.set_experiment("churn")
    with mlflow.start_run() as run:
        mlflow.log_metric("acc", 0.9 if workspace == "team-a" else 0.5)
        mlflow.log_text(workspace, "where.txt")
    MlflowClient().create_registered_model("fraud", description=workspace)
    names = sorted(e.name for e in mlflow.search_experiments())
    seen[workspace] = {
        "experiments": names,
        "run": run.info.run_id,
        "acc": mlflow.get_run(run.info.run_id).data.metrics["acc"],
        "text": mlflow.artifacts.load_text(run.info.artifact_uri + "/where.txt"),
        "model": MlflowClient().get_registered_model("fraud").description,
    }
mlflow.set_workspace("team-a")
try:
    mlflow.get_run(seen["default"]["run"])
    other = "found"
except mlflow.exceptions.MlflowException as e:
    other = e.error_code
listed = sorted(w.name for w in mlflow.list_workspaces())
got = mlflow.get_workspace("team-a")
try:
    mlflow.delete_workspace("team-a")
    refused = None
except mlflow.exceptions.MlflowException as e:
    refused = e.error_code
print(json.dumps({"made": made.name, "seen": seen, "other": other, "listed": listed,
                  "description": got.description, "refused": refused}))
""",
        MLFLOW_TRACKING_URI=server,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
    )
    assert result["made"] == "team-a"
    assert result["listed"] == ["default", "team-a"]
    assert result["description"] == "the A team"
    a, default = result["seen"]["team-a"], result["seen"]["default"]
    assert a["experiments"] == ["churn"]
    assert default["experiments"] == ["Default", "churn"]
    assert (a["acc"], a["text"], a["model"]) == (0.9, "team-a", "team-a")
    assert (default["acc"], default["text"], default["model"]) == (0.5, "default", "default")
    assert result["other"] == "RESOURCE_DOES_NOT_EXIST"
    assert result["refused"] == "RESOURCE_CONFLICT"
    with httpx.Client(base_url=server) as http:
        info = http.get("/api/3.0/mlflow/server-info").json()
    assert info["workspaces_enabled"] is True
