"""A workspace's default_artifact_root on a real server (SQLite and PostgreSQL): experiments made
in it without a location keep their artifacts under it, and a root the server does not allow
is refused."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

API = "/api/2.0/mlflow"
WS = "/api/3.0/mlflow/workspaces"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
IN_A = {"X-MLFLOW-WORKSPACE": "team-a"}


def experiment(client: httpx.Client, name: str, headers: dict[str, str], **body: str) -> Any:
    made = client.post(f"{API}/experiments/create", json={"name": name, **body}, headers=headers)
    assert made.status_code == 200, made.text
    got = client.get(f"{API}/experiments/get", params={"experiment_id": made.json()[
        "experiment_id"]}, headers=headers)  # fmt: skip
    return got.json()["experiment"]


def test_a_workspace_root_holds_its_new_experiments_artifacts(
    server: httpx.Client, tmp_path: Path
) -> None:
    made = server.post(WS, json={"name": "team-a", "default_artifact_root": "mlflow-artifacts:/a"})
    assert made.status_code == 201, made.text
    assert made.json()["workspace"]["default_artifact_root"] == "mlflow-artifacts:/a"
    churn = experiment(server, "churn", IN_A)
    assert churn["artifact_location"] == f"mlflow-artifacts:/a/{churn['experiment_id']}"
    chosen = experiment(server, "chosen", IN_A, artifact_location="mlflow-artifacts:/mine")
    assert chosen["artifact_location"] == "mlflow-artifacts:/mine"
    elsewhere = experiment(server, "churn", {})  # the default workspace: the server's root
    assert elsewhere["artifact_location"] == f"mlflow-artifacts:/{elsewhere['experiment_id']}"

    run = server.post(f"{API}/runs/create", json={"experiment_id": churn["experiment_id"]},
                      headers=IN_A).json()["run"]["info"]  # fmt: skip
    assert run["artifact_uri"].startswith(churn["artifact_location"] + "/")
    path = run["artifact_uri"].removeprefix("mlflow-artifacts:/") + "/notes.txt"
    put = server.put(f"{PROXY}/{path}", content=b"kept in team-a's root", headers=IN_A)
    assert put.status_code == 200, put.text
    stored = tmp_path / "artifacts" / "a" / churn["experiment_id"]
    assert [p.read_bytes() for p in stored.rglob("notes.txt")] == [b"kept in team-a's root"]

    # Changed, it holds the experiments made from then on; the earlier ones stay where they are.
    moved = server.patch(f"{WS}/team-a", json={"default_artifact_root": "mlflow-artifacts:/b"})
    assert moved.status_code == 200, moved.text
    later = experiment(server, "later", IN_A)
    assert later["artifact_location"] == f"mlflow-artifacts:/b/{later['experiment_id']}"
    again = experiment(server, "churn-again", IN_A)
    assert again["artifact_location"].startswith("mlflow-artifacts:/b/")
    kept = server.get(f"{API}/experiments/get", params={"experiment_id": churn["experiment_id"]},
                      headers=IN_A).json()["experiment"]  # fmt: skip
    assert kept["artifact_location"] == churn["artifact_location"]


@pytest.mark.parametrize(
    "root",
    ["/srv/elsewhere", "s3://another-bucket/x", "mlflow-artifacts:/a/../../etc",
     "mlflow-artifacts://evil.example/a", "file://host/share", "C:/artifacts"],
)  # fmt: skip
def test_a_root_the_server_does_not_allow_is_refused(server: httpx.Client, root: str) -> None:
    refused = server.post(WS, json={"name": "team-a", "default_artifact_root": root})
    assert refused.status_code == 400, refused.text
    assert refused.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "default_artifact_root" in refused.json()["message"]
    assert server.get(f"{WS}/team-a").status_code == 404  # nothing was made

    assert server.post(WS, json={"name": "team-b"}).status_code == 201
    changed = server.patch(f"{WS}/team-b", json={"default_artifact_root": root})
    assert changed.status_code == 400, changed.text
    assert changed.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "default_artifact_root" not in server.get(f"{WS}/team-b").json()["workspace"]
