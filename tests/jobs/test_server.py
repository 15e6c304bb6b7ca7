"""A whole deployment job on a real server with `--auth` (SQLite and PostgreSQL) and a real
worker: a good version is evaluated, approved by a user with PROMOTE through the API and
deployed to @champion; one that regresses stops at evaluation with the metric that missed; a
user without PROMOTE cannot approve through any route; every step is in the version's activity
log and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.jobs.polling import state_is, wait_for
from tests.server.security.conftest import AuthServer, create_user, serve_with_auth
from tests.server.security.test_grants_enforced import grant, ok, refused

from heron.entities.deployment_jobs import JobRun, RunState
from heron.settings import Settings

HERON = "/api/2.0/heron"
MLFLOW = "/api/2.0/mlflow"
JOB = """
description: evaluate, approve, then make it the champion
tasks:
  - name: evaluate
    type: evaluate
    model_type: classifier
    data: {data}
    targets: label
    baseline: "@champion"
    thresholds:
      accuracy_score: {{threshold: 0.8, min_absolute_change: 0}}
  - {{name: approve, type: approve, timeout: 10m}}
  - {{name: deploy, type: deploy, alias: champion}}
"""


@pytest.fixture
def server(tmp_path: Path, serve_settings: Any, database_uri: str) -> Iterator[AuthServer]:
    with serve_with_auth(tmp_path, serve_settings, database_uri) as running:
        yield running


@pytest.fixture
def worker(server: AuthServer, tmp_path: Path) -> Iterator[Any]:
    """A worker on the server's database, as `heron server` starts it."""
    from heron.jobs.worker import Worker

    settings = Settings(
        backend_store_uri=server.database_uri,
        artifacts_destination=str(tmp_path / "artifacts"),
        job_lease_s=5.0,
    )
    started = Worker(settings, poll_s=0.05, approval_poll_s=0.1)
    started.start()
    try:
        yield started
    finally:
        started.close()


@pytest.fixture
def models(worker: Any, tmp_path: Path) -> Iterator[dict[str, str]]:
    """A good classifier and one that regresses, logged to the server's store, and a labelled
    data file to evaluate them on: their model URIs and the data's artifact URI."""
    import numpy as np
    import pandas as pd
    from sklearn.dummy import DummyClassifier
    from sklearn.linear_model import LogisticRegression

    import heron
    import heron.sklearn
    from heron.client.fluent import state

    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 3))
    frame = pd.DataFrame(x, columns=["a", "b", "c"])
    frame["label"] = (x[:, 0] + x[:, 1] > 0).astype(int)
    features = frame[["a", "b", "c"]]
    good = LogisticRegression().fit(features, frame["label"])
    bad = DummyClassifier(strategy="constant", constant=0).fit(features, frame["label"])
    data = tmp_path / "holdout.csv"
    frame.to_csv(data, index=False)
    state.use_client(worker.client)
    heron.set_experiment("fraud-training")
    with heron.start_run() as run:
        heron.log_artifact(str(data))
        uris = {
            "good": heron.sklearn.log_model(
                good, name="good", input_example=features[:2]
            ).model_uri,
            "bad": heron.sklearn.log_model(bad, name="bad", input_example=features[:2]).model_uri,
        }
    yield {**uris, "data": f"runs:/{run.info.run_id}/holdout.csv"}
    heron.set_tracking_uri(None)


def _client(server: AuthServer, user: str) -> httpx.Client:
    return server.client((user, f"{user}-password"))


def _run(admin: httpx.Client, version: str) -> JobRun:
    from heron.client.http.deployment_jobs import run_in

    found = ok(admin.get(f"{HERON}/deployment-job-runs/search",
                         params={"name": "fraud", "version": version}))  # fmt: skip
    return run_in(found["runs"][0])


@pytest.fixture
def admin(server: AuthServer) -> Iterator[httpx.Client]:
    with server.admin() as client:
        yield client


def _set_up(server: AuthServer, admin: httpx.Client, models: dict[str, str]) -> None:
    """The job, the model it is attached to, alice who may promote, bob who may only edit."""
    for user in ("alice", "bob"):
        create_user(server, user, f"{user}-password")
    definition = JOB.format(data=models["data"])
    job = ok(admin.post(f"{HERON}/deployment-jobs/create",
                        json={"name": "fraud-release", "definition": definition}))  # fmt: skip
    ok(admin.post(f"{MLFLOW}/registered-models/create",
                  json={"name": "fraud", "deployment_job_id": job["job"]["job_id"]}))  # fmt: skip
    grant(server, "alice", "PROMOTE", "registered_model", "fraud")
    grant(server, "bob", "EDIT", "registered_model", "fraud")


def _new_version(admin: httpx.Client, source: str) -> str:
    made = ok(
        admin.post(f"{MLFLOW}/model-versions/create", json={"name": "fraud", "source": source})
    )
    return str(made["model_version"]["version"])


def test_a_good_version_is_evaluated_approved_and_deployed_and_a_bad_one_stops(
    server: AuthServer, admin: httpx.Client, models: dict[str, str]
) -> None:
    _set_up(server, admin, models)
    version = _new_version(admin, models["good"])
    waiting = wait_for(lambda: _run(admin, version),
                       state_is(RunState.APPROVAL, RunState.FAILED), timeout_s=120)  # fmt: skip
    assert waiting.state == RunState.APPROVAL, waiting.failure_reason
    evaluate = waiting.tasks[0]
    assert evaluate.metrics["accuracy_score"] > 0.9
    got = ok(
        admin.get(f"{MLFLOW}/model-versions/get", params={"name": "fraud", "version": version})
    )
    assert got["model_version"]["deployment_job_state"]["run_state"] == "APPROVAL"

    with _client(server, "bob") as bob:  # EDIT, not PROMOTE: no route lets bob approve
        refused(bob.post(f"{HERON}/deployment-job-runs/decide",
                         json={"run_id": waiting.run_id, "approved": True}))  # fmt: skip
        refused(bob.post(f"{MLFLOW}/model-versions/set-tag",
                         json={"name": "fraud", "version": version, "key": "approve",
                               "value": "Approved"}))  # fmt: skip
        champion = {"name": "fraud", "alias": "champion", "version": version}
        refused(bob.post(f"{MLFLOW}/registered-models/alias", json=champion))
    assert _run(admin, version).state == RunState.APPROVAL

    with _client(server, "alice") as alice:
        decided = ok(alice.post(f"{HERON}/deployment-job-runs/decide",
                                json={"run_id": waiting.run_id, "approved": True,
                                      "comment": "accuracy is fine"}))  # fmt: skip
    assert decided["run"]["run_id"] == waiting.run_id
    done = wait_for(lambda: _run(admin, version), state_is(RunState.SUCCEEDED, RunState.FAILED))
    assert done.state == RunState.SUCCEEDED, done.failure_reason
    assert done.tasks[1].detail["approver"] == "alice"
    champion = ok(admin.get(f"{MLFLOW}/registered-models/alias",
                            params={"name": "fraud", "alias": "champion"}))  # fmt: skip
    assert champion["model_version"]["version"] == version

    bad = _new_version(admin, models["bad"])
    stopped = wait_for(lambda: _run(admin, bad), state_is(RunState.FAILED, RunState.APPROVAL),
                       timeout_s=120)  # fmt: skip
    assert stopped.state == RunState.FAILED
    assert stopped.current_task == "evaluate"
    assert stopped.failure_reason is not None
    assert "accuracy_score" in stopped.failure_reason
    assert [t.state.value for t in stopped.tasks] == ["FAILED", "PENDING", "PENDING"]

    activity = ok(admin.get(f"{HERON}/model-versions/activity",
                            params={"name": "fraud", "version": version}))["events"]  # fmt: skip
    kinds = [e["kind"] for e in activity]
    for kind in ("deployment_job_started", "approval_requested", "approved",
                 "deployment_task_finished", "deployment_job_finished"):  # fmt: skip
        assert kind in kinds
    approved = next(e for e in activity if e["kind"] == "approved")
    assert (approved["user_id"], approved["detail"]["comment"]) == ("alice", "accuracy is fine")
    audit = ok(
        admin.get(
            f"{HERON}/audit/list", params={"object_type": "model_version", "max_results": 1000}
        )
    )
    actions = {(e["principal"], e["action"]) for e in audit["entries"]}
    assert ("alice", "deployment_job.approved") in actions
    assert ("heron-worker", "deployment_job.deployment_job_finished") in actions
