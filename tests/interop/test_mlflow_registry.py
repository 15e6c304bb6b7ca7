"""The model registry both ways through one Heron server with MLflow 3.17.2's client: models,
versions, aliases, tags, descriptions, stages and searches that one side writes, the other
reads (loading models across is tests/interop/test_mlflow_server_models.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import heron

pytestmark = pytest.mark.slow
RunMlflow = Callable[..., Any]


def test_what_mlflow_registers_heron_reads(server: str, run_mlflow: RunMlflow) -> None:
    seen = run_mlflow(
        """
import json
from mlflow import MlflowClient
c = MlflowClient()
run = c.create_run("0")
c.create_registered_model("fraud", tags={"team": "risk"}, description="Finds fraud")
for _ in range(3):
    c.create_model_version("fraud", f"runs:/{run.info.run_id}/model", run_id=run.info.run_id)
c.set_registered_model_alias("fraud", "champion", "2")
c.set_model_version_tag("fraud", "2", "validated", "yes")
c.update_model_version("fraud", "3", description="candidate")
c.transition_model_version_stage("fraud", "1", "Archived")
c.delete_model_version("fraud", "1")
c.rename_registered_model("fraud", "fraud-detector")
print(json.dumps({"run_id": run.info.run_id}))
""",
        MLFLOW_TRACKING_URI=server,
    )
    with heron.HeronClient(server) as client:
        model = client.get_registered_model("fraud-detector")
        assert (model.description, dict(model.tags)) == ("Finds fraud", {"team": "risk"})
        assert dict(model.aliases) == {"champion": "2"}
        champion = client.get_model_version_by_alias("fraud-detector", "champion")
        assert (champion.version, champion.tags["validated"]) == ("2", "yes")
        assert champion.run_id == seen["run_id"]
        assert client.get_model_version("fraud-detector", "3").description == "candidate"
        versions = client.search_model_versions("name = 'fraud-detector'")
        assert sorted(v.version for v in versions) == ["2", "3"]
        found = client.search_registered_models("tags.team = 'risk'")
        assert [m.name for m in found] == ["fraud-detector"]


def test_what_heron_registers_mlflow_reads(server: str, run_mlflow: RunMlflow) -> None:
    with heron.HeronClient(server) as client:
        run = client.create_run(client.create_experiment("registry"))
        client.create_registered_model("churn", tags={"stage": "beta"}, description="Churn")
        for _ in range(2):
            client.create_model_version(
                "churn", f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
            )
        client.set_registered_model_alias("churn", "prod", "1")
        client.set_model_version_tag("churn", "2", "note", "newer")
    seen = run_mlflow(
        """
import json
from mlflow import MlflowClient
c = MlflowClient()
m = c.get_registered_model("churn")
prod = c.get_model_version_by_alias("churn", "prod")
latest = c.get_latest_versions("churn")
found = c.search_model_versions("name = 'churn' AND tags.note = 'newer'")
print(json.dumps({"description": m.description, "tags": m.tags, "aliases": m.aliases,
                  "prod": prod.version, "latest": [v.version for v in latest],
                  "found": [v.version for v in found],
                  "models": [r.name for r in c.search_registered_models("name LIKE 'ch%'")]}))
""",
        MLFLOW_TRACKING_URI=server,
    )
    assert seen == {
        "description": "Churn",
        "tags": {"stage": "beta"},
        "aliases": {"prod": "1"},
        "prod": "1",
        "latest": ["2"],
        "found": ["2"],
        "models": ["churn"],
    }
