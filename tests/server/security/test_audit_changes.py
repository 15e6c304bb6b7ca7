"""The audit log names the object each change touched, with its fields before and after:
experiments, runs, registered models and their versions, webhooks, serving endpoints,
deployment jobs, workspaces, namespaces, logged models, datasets and scorers, changed through
a real `--auth` server (never a secret)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from tests.server.security.conftest import AuthServer, serve_with_auth

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


def test_webhook_changes_carry_their_fields_but_never_the_secret(
    tmp_path: Path, serve_settings: Any
) -> None:
    hooks = "/api/2.0/mlflow/webhooks"
    allowed = ("hooks.example",)
    with (
        serve_with_auth(tmp_path, serve_settings, webhook_allowed_hosts=allowed) as s,
        s.admin() as admin,
    ):
        made = _ok(admin.post(hooks, json={
            "name": "notify", "url": "https://hooks.example/in", "secret": "s3cret-one",
            "events": [{"entity": "REGISTERED_MODEL", "action": "CREATED"}],
        }))["webhook"]  # fmt: skip
        webhook_id = made["webhook_id"]
        _ok(admin.patch(f"{hooks}/{webhook_id}",
                        json={"status": "DISABLED", "secret": "s3cret-two"}))  # fmt: skip
        _ok(admin.delete(f"{hooks}/{webhook_id}"))
        entries = _changes(admin, "webhook")
        raw = admin.get("/api/2.0/heron/audit/list").text
    mine = [(b, a) for object_id, b, a in entries if object_id == webhook_id]
    assert mine[0][0] is None
    assert mine[0][1]["has_secret"] is True
    assert mine[0][1]["url"] == "https://hooks.example/in"
    assert mine[1] == (
        {"status": "ACTIVE", "secret_replaced": None},
        {"status": "DISABLED", "secret_replaced": True},
    )
    assert mine[2][1] is None
    assert mine[2][0]["name"] == "notify"
    assert "s3cret" not in raw


def test_endpoint_and_deployment_job_changes_carry_their_fields(
    auth_server: AuthServer,
) -> None:
    endpoints = "/api/2.0/serving-endpoints"
    with auth_server.admin() as admin:
        experiment = _ok(admin.post(f"{API}/experiments/create", json={"name": "e"}))
        run = _ok(admin.post(f"{API}/runs/create", json=experiment))["run"]["info"]["run_id"]
        _ok(admin.post(f"{API}/registered-models/create", json={"name": "m"}))
        for _ in range(2):
            _ok(admin.post(f"{API}/model-versions/create",
                           json={"name": "m", "source": f"runs:/{run}/model"}))  # fmt: skip
        served = {"served_entities": [{"entity_name": "m", "entity_version": "1"}]}
        _ok(admin.post(endpoints, json={"name": "ep", "config": served}))
        served["served_entities"][0]["entity_version"] = "2"
        _ok(admin.put(f"{endpoints}/ep/config", json=served))
        _ok(admin.patch(f"{endpoints}/ep/tags",
                        json={"add_tags": [{"key": "team", "value": "risk"}]}))  # fmt: skip
        job = _ok(admin.post("/api/2.0/heron/deployment-jobs/create", json={
            "name": "release", "definition": "tasks: [{name: approve, type: approve}]",
        }))["job"]  # fmt: skip
        _ok(admin.post("/api/2.0/heron/deployment-jobs/update", json={
            "job_id": job["job_id"], "definition": "tasks: [{name: ok, type: approve}]",
            "description": "renamed task",
        }))  # fmt: skip
        _ok(admin.post("/api/2.0/heron/deployment-jobs/delete", json={"job_id": job["job_id"]}))
        of_endpoint = [(b, a) for object_id, b, a in _changes(admin, "serving_endpoint")
                       if object_id == "ep"]  # fmt: skip
        of_job = [(b, a) for object_id, b, a in _changes(admin, "deployment_job")
                  if object_id == job["job_id"]]  # fmt: skip
    made = next(a for b, a in of_endpoint if b is None and a and "routes" in a)
    assert made["served_entities"]["m-1"]["version"] == "1"
    assert made["routes"] == {"m-1": 100}
    config_change = next(c for c in of_endpoint if c[0] and "config_version" in c[0])
    assert (config_change[0]["config_version"], config_change[1]["config_version"]) == (1, 2)
    assert ({"tags.team": None}, {"tags.team": "risk"}) in of_endpoint
    assert of_job[0][0] is None
    assert of_job[0][1]["name"] == "release"
    assert of_job[1][0]["version"] == 1
    assert of_job[1][1]["version"] == 2
    assert of_job[1][1]["description"] == "renamed task"
    assert of_job[2][1] is None
    assert of_job[2][0]["name"] == "release"


def test_workspace_changes_carry_their_fields(tmp_path: Path, serve_settings: Any) -> None:
    spaces = "/api/3.0/mlflow/workspaces"
    with (
        serve_with_auth(tmp_path, serve_settings, enable_workspaces=True) as s,
        s.admin() as admin,
    ):
        assert admin.post(spaces, json={"name": "team-a", "description": "one"}).is_success
        _ok(admin.patch(f"{spaces}/team-a", json={"description": "two"}))
        assert admin.delete(f"{spaces}/team-a").status_code == 204
        found = _changes(admin, "workspace")
    # Beside its owner's grant (an entry of its own, on the same object):
    entries = [(b, a) for i, b, a in found if i == "team-a" and "privilege" not in (a or b)]
    assert entries[0] == (None, {"description": "one", "default_artifact_root": None})
    assert entries[1] == ({"description": "one", "default_artifact_root": None},
                          {"description": "two", "default_artifact_root": None})  # fmt: skip
    assert entries[2][1] is None


def test_logged_model_changes_carry_their_fields_before_and_after(
    auth_server: AuthServer,
) -> None:
    with auth_server.admin() as admin:
        experiment_id = _ok(admin.post(f"{API}/experiments/create", json={"name": "lm"}))[
            "experiment_id"
        ]
        made = _ok(admin.post(f"{API}/logged-models",
                              json={"experiment_id": experiment_id, "name": "agent"}))  # fmt: skip
        model_id = made["model"]["info"]["model_id"]
        path = f"{API}/logged-models/{model_id}"
        _ok(admin.patch(path, json={"model_id": model_id, "status": "LOGGED_MODEL_READY"}))
        for value in ("v1", "v2"):
            _ok(admin.patch(f"{path}/tags", json={"tags": [{"key": "stage", "value": value}]}))
        assert admin.delete(f"{path}/tags/stage").status_code == 200
        assert admin.delete(path).status_code == 200
        changes = [(b, a) for object_id, b, a in _changes(admin, "logged_model")
                   if object_id == model_id]  # fmt: skip
    created = next(a for b, a in changes if b is None)
    assert (created["name"], created["experiment_id"]) == ("agent", experiment_id)
    assert ({"status": "PENDING"}, {"status": "READY"}) in changes
    assert ({"tags.stage": None}, {"tags.stage": "v1"}) in changes
    assert ({"tags.stage": "v1"}, {"tags.stage": "v2"}) in changes
    assert ({"tags.stage": "v2"}, {"tags.stage": None}) in changes
    deleted = next(b for b, a in changes if a is None)
    assert deleted["name"] == "agent"


def test_dataset_and_scorer_changes_carry_their_fields_before_and_after(
    auth_server: AuthServer,
) -> None:
    v3 = "/api/3.0/mlflow"
    with auth_server.admin() as admin:
        experiment_id = _ok(admin.post(f"{API}/experiments/create", json={"name": "evals"}))[
            "experiment_id"
        ]
        golden = {"name": "golden", "experiment_ids": [experiment_id]}
        made = _ok(admin.post(f"{v3}/datasets/create", json=golden))
        dataset_id = made["dataset"]["dataset_id"]
        tags = json.dumps({"owner": "ann"})
        _ok(admin.patch(f"{v3}/datasets/{dataset_id}/tags", json={"tags": tags}))
        assert admin.delete(f"{v3}/datasets/{dataset_id}").status_code == 200
        scorer = {"experiment_id": experiment_id, "name": "brief",
                  "serialized_scorer": json.dumps({"name": "brief"})}  # fmt: skip
        _ok(admin.post(f"{v3}/scorers/register", json=scorer))
        _ok(admin.post(f"{v3}/scorers/register", json=scorer))
        start = {"experiment_id": experiment_id, "name": "brief", "sample_rate": 0.5}
        _ok(admin.put(f"{v3}/scorers/online-config", json=start))
        gone = admin.request("DELETE", f"{v3}/scorers/delete",
                             json={"experiment_id": experiment_id, "name": "brief"})  # fmt: skip
        assert gone.status_code == 200, gone.text
        datasets = [(b, a) for i, b, a in _changes(admin, "dataset") if i == dataset_id]
        experiment = [(b, a) for i, b, a in _changes(admin, "experiment") if i == experiment_id]
    assert (None, {"name": "golden", "experiment_ids": [experiment_id]}) in datasets
    assert ({"tags.owner": None}, {"tags.owner": "ann"}) in datasets
    assert ({"name": "golden", "experiment_ids": [experiment_id], "tags.owner": "ann"},
            None) in datasets  # fmt: skip
    assert ({"scorers.brief.version": None}, {"scorers.brief.version": 1}) in experiment
    assert ({"scorers.brief.version": 1}, {"scorers.brief.version": 2}) in experiment
    assert ({"scorers.brief.sample_rate": None}, {"scorers.brief.sample_rate": 0.5}) in experiment
    assert ({"scorers.brief": "every version"}, {"scorers.brief": None}) in experiment


def test_namespace_changes_carry_their_fields(auth_server: AuthServer) -> None:
    heron = "/api/2.0/heron"
    with auth_server.admin() as admin:
        _ok(admin.post(f"{heron}/catalogs/create", json={"name": "ml", "comment": "models"}))
        schema_made = {"catalog_name": "ml", "name": "fraud", "comment": "team"}
        _ok(admin.post(f"{heron}/schemas/create", json=schema_made))
        _ok(admin.request("DELETE", f"{heron}/schemas/delete", json={"full_name": "ml.fraud"}))
        _ok(admin.request("DELETE", f"{heron}/catalogs/delete", json={"name": "ml"}))
        found = _changes(admin, "namespace")
    catalog = {"kind": "catalog", "comment": "models", "owner": "root"}
    schema = {"kind": "schema", "comment": "team", "owner": "root"}
    assert [(i, b, a) for i, b, a in found] == [
        ("ml", None, catalog), ("ml.fraud", None, schema),
        ("ml.fraud", schema, None), ("ml", catalog, None),
    ]  # fmt: skip
