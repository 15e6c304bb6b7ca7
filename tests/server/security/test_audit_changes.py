"""The audit log names the object each change touched, with its fields before and after:
experiments, runs, registered models and their versions, changed through a real `--auth`
server."""

from __future__ import annotations

import json
from typing import Any

import httpx
from tests.server.security.conftest import AuthServer

API = "/api/2.0/mlflow"


def _ok(resp: httpx.Response) -> Any:
    assert resp.status_code == 200, resp.text
    return resp.json()


def _changes(admin: httpx.Client, object_type: str) -> list[tuple[str, Any, Any]]:
    found = _ok(admin.get("/api/2.0/heron/audit/list", params={"object_type": object_type}))
    return [
        (e["object_id"], json.loads(e["before"] or "null"), json.loads(e["after"] or "null"))
        for e in found["entries"]
    ]


def test_experiment_and_run_changes_carry_their_fields_before_and_after(
    auth_server: AuthServer,
) -> None:
    with auth_server.admin() as admin:
        made = _ok(admin.post(f"{API}/experiments/create", json={"name": "before"}))
        experiment_id = made["experiment_id"]
        _ok(admin.post(f"{API}/experiments/update",
                       json={"experiment_id": experiment_id, "new_name": "after"}))  # fmt: skip
        for value in ("a", "b"):
            tag = {"experiment_id": experiment_id, "key": "team", "value": value}
            _ok(admin.post(f"{API}/experiments/set-experiment-tag", json=tag))
        run = _ok(admin.post(f"{API}/runs/create", json={"experiment_id": experiment_id}))
        run_id = run["run"]["info"]["run_id"]
        _ok(admin.post(f"{API}/runs/update", json={"run_id": run_id, "status": "FINISHED"}))
        _ok(admin.post(f"{API}/runs/delete", json={"run_id": run_id}))
        _ok(admin.post(f"{API}/experiments/delete", json={"experiment_id": experiment_id}))
        experiments = _changes(admin, "experiment")
        runs = _changes(admin, "run")
    mine = [(b, a) for object_id, b, a in experiments if object_id == experiment_id]
    made_at = f"mlflow-artifacts:/{experiment_id}"
    assert (None, {"name": "before", "artifact_location": made_at}) in mine
    assert ({"name": "before"}, {"name": "after"}) in mine
    assert ({"tags.team": None}, {"tags.team": "a"}) in mine
    assert ({"tags.team": "a"}, {"tags.team": "b"}) in mine
    assert ({"lifecycle_stage": "active"}, {"lifecycle_stage": "deleted"}) in mine
    of_run = [(b, a) for object_id, b, a in runs if object_id == run_id]
    assert of_run[0][1]["experiment_id"] == experiment_id
    updated = [(b["status"], a["status"]) for b, a in of_run if b and "status" in b]
    assert updated == [("RUNNING", "FINISHED")]
    assert ({"lifecycle_stage": "active"}, {"lifecycle_stage": "deleted"}) in of_run


def test_registry_changes_carry_their_fields_before_and_after(auth_server: AuthServer) -> None:
    with auth_server.admin() as admin:
        experiment = _ok(admin.post(f"{API}/experiments/create", json={"name": "e"}))
        run = _ok(admin.post(f"{API}/runs/create", json=experiment))["run"]["info"]["run_id"]
        _ok(admin.post(f"{API}/registered-models/create", json={"name": "m", "description": "v1"}))
        _ok(admin.patch(f"{API}/registered-models/update", json={"name": "m", "description": "v2"}))
        for _ in range(2):
            _ok(admin.post(f"{API}/model-versions/create",
                           json={"name": "m", "source": f"runs:/{run}/model"}))  # fmt: skip
        for version in ("1", "2"):
            alias = {"name": "m", "alias": "champion", "version": version}
            _ok(admin.post(f"{API}/registered-models/alias", json=alias))
        _ok(admin.post(f"{API}/model-versions/transition-stage",
                       json={"name": "m", "version": "2", "stage": "Production",
                             "archive_existing_versions": False}))  # fmt: skip
        _ok(admin.post(f"{API}/registered-models/rename", json={"name": "m", "new_name": "n"}))
        models = _changes(admin, "registered_model")
        versions = _changes(admin, "model_version")
    assert ("m", {"description": "v1"}, {"description": "v2"}) in models
    assert ("m", {"aliases.champion": None}, {"aliases.champion": "1"}) in models
    assert ("m", {"aliases.champion": "1"}, {"aliases.champion": "2"}) in models
    assert ("n", {"name": "m"}, {"name": "n"}) in models
    assert ("m/2", {"current_stage": "None"}, {"current_stage": "Production"}) in versions
    assert [object_id for object_id, before, _ in versions if before is None] == ["m/1", "m/2"]
