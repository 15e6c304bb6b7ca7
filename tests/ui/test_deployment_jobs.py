"""In real Chromium, with --auth and a real worker: a model version's page shows its deployment
job as a timeline; a user without PROMOTE cannot approve there; one with it approves with a
comment, and the version is deployed to its alias; the job is run again from the page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.security.conftest import AuthServer, create_user, serve_with_auth
from tests.server.security.test_grants_enforced import grant, ok
from tests.ui.conftest import sign_in

from heron.settings import Settings

HERON = "/api/2.0/heron"
MLFLOW = "/api/2.0/mlflow"
JOB = """
tasks:
  - {name: approve, type: approve}
  - {name: deploy, type: deploy, alias: champion}
"""


@pytest.fixture
def server(tmp_path: Path, serve_settings: Any) -> Iterator[AuthServer]:
    with serve_with_auth(tmp_path, serve_settings) as running:
        from heron.jobs.worker import Worker

        settings = Settings(
            backend_store_uri=running.database_uri,
            artifacts_destination=str(tmp_path / "artifacts"),
        )
        worker = Worker(settings, poll_s=0.05, approval_poll_s=0.1)
        worker.start()
        try:
            yield running
        finally:
            worker.close()


def _state(admin: httpx.Client) -> str:
    found = ok(admin.get(f"{HERON}/deployment-job-runs/search",
                         params={"name": "fraud", "version": "1"}))  # fmt: skip
    return str(found["runs"][0]["state"]) if found.get("runs") else "NONE"


def _wait(admin: httpx.Client, *states: str) -> str:
    deadline = time.monotonic() + 30
    while (state := _state(admin)) not in states and time.monotonic() < deadline:
        time.sleep(0.1)
    return state


def test_a_version_is_approved_on_its_page_by_a_user_who_may(page: Any, server: AuthServer) -> None:
    for user in ("alice", "bob"):
        create_user(server, user, f"{user}-password")
    with server.admin() as admin:
        job = ok(admin.post(f"{HERON}/deployment-jobs/create",
                            json={"name": "release", "definition": JOB}))  # fmt: skip
        attached = {"name": "fraud", "deployment_job_id": job["job"]["job_id"]}
        ok(admin.post(f"{MLFLOW}/registered-models/create", json=attached))
        grant(server, "alice", "PROMOTE", "registered_model", "fraud")
        grant(server, "bob", "READ", "registered_model", "fraud")
        ok(admin.post(f"{MLFLOW}/model-versions/create",
                      json={"name": "fraud", "source": "mlflow-artifacts:/0/m"}))  # fmt: skip
        assert _wait(admin, "APPROVAL") == "APPROVAL"
        version_page = f"{server.url}/models/fraud/versions/1"

        sign_in(page, server.url, "bob", "bob-password")
        page.goto(version_page)
        assert page.inner_text("#job-run-state") == "APPROVAL"
        waiting = page.locator("#job-timeline li[data-task=approve]")
        assert waiting.get_attribute("data-state") == "WAITING"
        page.fill("#approval-comment", "fine by me")
        page.click("#approve")
        assert "PROMOTE" in page.content()  # refused, and told why
        assert _state(admin) == "APPROVAL"
        page.goto(f"{server.url}/logout")
        page.context.clear_cookies()

        sign_in(page, server.url, "alice", "alice-password")
        page.goto(version_page)
        page.fill("#approval-comment", "accuracy holds up")
        page.click("#approve")
        page.wait_for_url(f"{version_page}#deployment-job")
        assert _wait(admin, "SUCCEEDED", "FAILED") == "SUCCEEDED"
        page.goto(version_page)
        timeline = page.inner_text("#job-timeline")
        assert "approved by alice" in timeline
        assert "accuracy holds up" in timeline
        assert (
            page.locator("#job-timeline li[data-task=deploy]").get_attribute("data-state")
            == "SUCCEEDED"
        )
        assert page.inner_text("#job-run-state") == "SUCCEEDED"
        assert "@champion" in page.inner_text("#version-title")

        page.click("#start-job")  # PROMOTE alone may not start a run: EDIT is needed
        assert "EDIT on registered model 'fraud' is needed" in page.inner_text("#flash")
        grant(server, "alice", "EDIT", "registered_model", "fraud")
        page.goto(version_page)
        page.click("#start-job")  # the job again (say its definition changed): a new run
        page.wait_for_url(f"{version_page}#deployment-job")
        assert _wait(admin, "APPROVAL") == "APPROVAL"
        runs = ok(admin.get(f"{HERON}/deployment-job-runs/search",
                            params={"name": "fraud", "version": "1"}))["runs"]  # fmt: skip
        assert len(runs) == 2
        assert runs[0]["started_by"] == "alice"
