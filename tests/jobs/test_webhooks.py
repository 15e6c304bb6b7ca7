"""A deployment job's events reach registry webhooks that listen to them (entity
DEPLOYMENT_JOB: started, approval requested, task finished, deployed, finished), delivered by
the server from what the worker queued, to a real local receiver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.jobs.polling import state_is, wait_for
from tests.webhook_receiver import Receiver, receiving

from heron.client.http.deployment_jobs import run_in
from heron.entities.deployment_jobs import JobRun, RunState
from heron.settings import Settings

API = "/api/2.0/mlflow"
HERON = "/api/2.0/heron"
ACTIONS = ["STARTED", "APPROVAL_REQUESTED", "TASK_FINISHED", "DEPLOYED", "FINISHED"]


@pytest.fixture
def http(tmp_path: Path, serve_settings: Any, database_uri: str) -> Iterator[httpx.Client]:
    from heron.jobs.worker import Worker

    settings = Settings(
        backend_store_uri=database_uri, artifacts_destination=str(tmp_path / "artifacts"),
        webhook_allowed_hosts=("127.0.0.1",),
    )  # fmt: skip
    worker = Worker(settings, poll_s=0.05, approval_poll_s=0.1)
    worker.start()
    try:
        with serve_settings(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
            yield client
    finally:
        worker.close()


def _ok(resp: httpx.Response) -> Any:
    assert resp.status_code == 200, resp.text
    return resp.json()


def _run(http: httpx.Client) -> JobRun:
    found = _ok(http.get(f"{HERON}/deployment-job-runs/search", params={"name": "fraud"}))
    return run_in(found["runs"][0])


def test_every_step_of_a_job_fires_its_webhook(http: httpx.Client) -> None:
    with receiving() as receiver:
        _run_a_job(http, receiver)


def _run_a_job(http: httpx.Client, receiver: Receiver) -> None:
    events = [{"entity": "DEPLOYMENT_JOB", "action": a} for a in ACTIONS]
    _ok(http.post(f"{API}/webhooks", json={"name": "jobs", "url": receiver.url, "events": events}))
    definition = (
        "tasks: [{name: approve, type: approve}, {name: deploy, type: deploy, alias: prod}]"
    )
    job = _ok(http.post(f"{HERON}/deployment-jobs/create",
                        json={"name": "release", "definition": definition}))  # fmt: skip
    attached = {"name": "fraud", "deployment_job_id": job["job"]["job_id"]}
    _ok(http.post(f"{API}/registered-models/create", json=attached))
    _ok(http.post(f"{API}/model-versions/create",
                  json={"name": "fraud", "source": "mlflow-artifacts:/0/m"}))  # fmt: skip
    waiting = wait_for(lambda: _run(http), state_is(RunState.APPROVAL))
    _ok(http.post(f"{HERON}/deployment-job-runs/decide",
                  json={"run_id": waiting.run_id, "approved": True}))  # fmt: skip
    assert wait_for(lambda: _run(http), state_is(RunState.SUCCEEDED)).state == RunState.SUCCEEDED
    receiver.wait_for(6, timeout_s=30)  # started, asked, 2 tasks finished, deployed, finished
    payloads = [json.loads(body) for _, body in receiver.requests]
    assert {p["entity"] for p in payloads} == {"deployment_job"}
    actions = [p["action"] for p in payloads]
    assert sorted(actions) == sorted(
        ["started", "approval_requested", "task_finished", "task_finished", "deployed",
         "finished"]
    )  # fmt: skip
    deployed = next(p for p in payloads if p["action"] == "deployed")
    assert (deployed["data"]["name"], deployed["data"]["version"]) == ("fraud", "1")
    assert deployed["data"]["run_id"] == waiting.run_id
