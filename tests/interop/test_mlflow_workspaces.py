"""The real mlflow 3.17.2 client against `heron server --enable-workspaces`: its workspace
calls (create, list, get, update, delete) and `mlflow.set_workspace` scoping experiments,
runs, artifacts and registered models to the workspace it names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.security.conftest import ADMIN, create_user, serve_with_auth

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
from mlflow.entities.workspace import TraceArchivalConfig

try:
    mlflow.create_workspace("team-z", trace_archival_config=TraceArchivalConfig(retention="30d"))
    archival = "made"
except mlflow.exceptions.MlflowException as e:
    archival = [e.error_code, "does not archive traces" in e.message]
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
print(json.dumps({"made": made.name, "archival": archival, "seen": seen, "other": other,
                  "listed": listed, "description": got.description, "refused": refused}))
""",
        MLFLOW_TRACKING_URI=server,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
    )
    assert result["made"] == "team-a"
    assert result["archival"] == ["INVALID_PARAMETER_VALUE", True]  # never stored and ignored
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


@pytest.fixture
def auth_server(tmp_path: Path, serve_settings: Any) -> Iterator[str]:
    """--auth and --enable-workspaces, with a local directory as the server's artifact root;
    bob may enter team-a and team-b (BROWSE on each), nothing more."""
    root = tmp_path / "root"
    with serve_with_auth(tmp_path, serve_settings, enable_workspaces=True,
                         default_artifact_root=str(root)) as running:  # fmt: skip
        create_user(running, "bob", "bob-password")
        with running.admin() as admin:
            for team in ("team-a", "team-b"):
                made = admin.post("/api/3.0/mlflow/workspaces", json={
                    "name": team, "default_artifact_root": f"{root}/{team}"})  # fmt: skip
                assert made.status_code == 201, made.text
                granted = admin.post("/api/2.0/heron/grants/grant", json={
                    "principal": "bob", "privilege": "BROWSE", "securable_type": "workspace",
                    "securable_id": team})  # fmt: skip
                assert granted.status_code == 200, granted.text
        yield running.url


def test_mlflow_grants_and_artifacts_follow_the_workspace(
    auth_server: str, run_mlflow: RunMlflow, tmp_path: Path
) -> None:
    result = run_mlflow(
        """
import json, os, mlflow
from mlflow import MlflowClient
from mlflow.server import get_app_client

admin = get_app_client("basic-auth", tracking_uri=URI)
for team in ("team-a", "team-b"):
    mlflow.set_workspace(team)
    MlflowClient().create_registered_model("m", description=team)
mlflow.set_workspace("team-a")
admin.grant_user_permission("bob", "registered_model", "m", "READ")
mlflow.set_experiment("churn")
with mlflow.start_run() as run:
    mlflow.log_text("in team-a", "where.txt")
location = mlflow.get_experiment_by_name("churn").artifact_location

os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = (
    "bob", "bob-password")
seen = {}
for team in ("team-a", "team-b"):
    mlflow.set_workspace(team)
    try:
        seen[team] = MlflowClient().get_registered_model("m").description
    except mlflow.exceptions.MlflowException as e:
        seen[team] = e.error_code
print(json.dumps({"seen": seen, "location": location, "run": run.info.run_id}))
""".replace("URI", repr(auth_server)),
        MLFLOW_TRACKING_URI=auth_server,
        MLFLOW_TRACKING_USERNAME=ADMIN[0],
        MLFLOW_TRACKING_PASSWORD=ADMIN[1],
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
    )
    assert result["seen"] == {"team-a": "team-a", "team-b": "PERMISSION_DENIED"}
    root = tmp_path / "root" / "team-a"
    assert result["location"].startswith(f"{root}/")
    written = list(root.rglob("where.txt"))
    assert [p.read_text() for p in written] == ["in team-a"]
    assert result["run"] in str(written[0])


def test_mlflow_star_permissions_reach_their_workspace_only(
    auth_server: str, run_mlflow: RunMlflow
) -> None:
    result = run_mlflow(
        """
import json, os, mlflow
from mlflow import MlflowClient
from mlflow.server import get_app_client

admin = get_app_client("basic-auth", tracking_uri=URI)
for team in ("team-a", "team-b", "default"):
    mlflow.set_workspace(team)
    mlflow.set_experiment("shared")
    MlflowClient().create_registered_model("m")
mlflow.set_workspace("team-a")
admin.grant_user_permission("bob", "experiment", "*", "READ")
admin.grant_user_permission("bob", "registered_model", "*", "READ")

os.environ["MLFLOW_TRACKING_USERNAME"], os.environ["MLFLOW_TRACKING_PASSWORD"] = (
    "bob", "bob-password")
seen = {}
for team in ("team-a", "team-b", "default"):
    mlflow.set_workspace(team)
    found = []
    for read in (lambda: mlflow.get_experiment_by_name("shared").name,
                 lambda: MlflowClient().get_registered_model("m").name):
        try:
            found.append(read())
        except mlflow.exceptions.MlflowException as e:
            found.append(e.error_code)
    seen[team] = found
print(json.dumps(seen))
""".replace("URI", repr(auth_server)),
        MLFLOW_TRACKING_URI=auth_server,
        MLFLOW_TRACKING_USERNAME=ADMIN[0],
        MLFLOW_TRACKING_PASSWORD=ADMIN[1],
        MLFLOW_HTTP_REQUEST_MAX_RETRIES="0",
    )
    denied = ["PERMISSION_DENIED", "PERMISSION_DENIED"]
    assert result == {"team-a": ["shared", "m"], "team-b": denied, "default": denied}
