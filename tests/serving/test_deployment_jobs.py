"""Deployment jobs on real serving endpoints: `heron server --serve-endpoints` with its replicas
and the job worker it starts by default (SQLite and PostgreSQL). Under steady load, a good
version is rolled out in canary steps, checked and kept; a slow one is rolled back by the
post-deploy check, and no request fails either way; one whose answers fail (5xx) is rolled back
by the check's error-rate limit."""

from __future__ import annotations

import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import PostgresServer
from tests.serving.conftest import EndpointServer, Load, register_iris, wait_until

pytestmark = pytest.mark.slow

API = "/api/2.0/serving-endpoints"
HERON = "/api/2.0/heron"
SLOW = """
import time
import heron.models
from heron.pyfunc import PythonModel

class Slow(PythonModel):
    def predict(self, context, model_input, params=None):
        time.sleep(0.6)
        return [0] * len(model_input)

heron.models.set_model(Slow())
"""
BROKEN = """
import heron.models
from heron.pyfunc import PythonModel

class Broken(PythonModel):
    def predict(self, context, model_input, params=None):
        return [object()] * len(model_input)  # an answer that cannot be written as JSON: 500

heron.models.set_model(Broken())
"""
JOB = """
tasks:
  - {name: deploy, type: deploy, endpoint: ENDPOINT, canary: [50, 100], step_interval: 2}
  - {name: watch, type: post_deploy_check, window: 10, poll: 1, max_latency_ms: 300,
     max_error_rate: 0.05, min_requests: 5}
"""


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EndpointServer]:
    uri = f"sqlite:///{tmp_path}/heron.db"
    postgres: PostgresServer | None = None
    if request.param == "postgresql":
        postgres = request.getfixturevalue("postgres_server")
        uri = postgres.create_database()
    running = EndpointServer(data_dir=tmp_path, backend_uri=uri, replicas=1)
    try:
        running.start()
        register_iris(running.url, "iris", fits=1)
        yield running
    finally:
        running.stop()
        if postgres is not None:
            postgres.drop_database(uri)


def _ok(resp: httpx.Response) -> Any:
    assert resp.status_code == 200, resp.text
    return resp.json()


def _served(http: httpx.Client, endpoint: str) -> set[str]:
    """The versions the endpoint's configuration serves, once it is in place."""
    body = http.get(f"{API}/{endpoint}").json()
    if body["state"] != {"ready": "READY", "config_update": "NOT_UPDATING"}:
        return set()
    return {e["entity_version"] for e in body["config"]["served_entities"]}


def _run(http: httpx.Client, version: str) -> dict[str, Any] | None:
    found = _ok(http.get(f"{HERON}/deployment-job-runs/search",
                         params={"name": "iris", "version": version}))  # fmt: skip
    runs = found.get("runs", [])
    return runs[0] if runs and runs[0]["state"] in ("SUCCEEDED", "FAILED") else None


def _code_version(url: str, tmp_path: Path, source: str) -> None:
    """A new version of "iris": the pyfunc model whose code is `source`."""
    import heron
    import heron.pyfunc
    from heron.models.uri import close_clients

    code = tmp_path / f"model_{uuid.uuid4().hex[:8]}.py"
    code.write_text(textwrap.dedent(source))
    heron.set_tracking_uri(url)
    try:
        with heron.start_run():
            heron.pyfunc.log_model(name="m", python_model=str(code), registered_model_name="iris")
    finally:
        heron.set_tracking_uri(None)
        close_clients()


def test_canary_rollout_is_kept_when_good_and_rolled_back_when_slow(
    server: EndpointServer, tmp_path: Path
) -> None:
    endpoint = f"ep-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=server.url, timeout=60) as http:
        config = {"served_entities": [{"entity_name": "iris", "entity_version": "1"}]}
        _ok(http.post(API, json={"name": endpoint, "config": config}))
        _ok(http.put(f"{API}/{endpoint}/ai-gateway",
                     json={"inference_table_config": {"enabled": True}}))  # fmt: skip
        wait_until(lambda: _served(http, endpoint) == {"1"}, 240, "version 1 to serve")
        job = _ok(http.post(f"{HERON}/deployment-jobs/create",
                            json={"name": "rollout",
                                  "definition": JOB.replace("ENDPOINT", endpoint)}))  # fmt: skip
        attach = {"name": "iris", "deployment_job_id": job["job"]["job_id"]}
        _ok(http.patch("/api/2.0/mlflow/registered-models/update", json=attach))

        with Load(f"{server.url}/serving-endpoints/{endpoint}/invocations") as load:
            register_iris(server.url, "iris", fits=1)  # version 2: as good as version 1
            kept = wait_until(lambda: _run(http, "2"), 300, "the rollout of version 2")
            _code_version(server.url, tmp_path, SLOW)  # version 3: too slow
            rolled = wait_until(lambda: _run(http, "3"), 300, "the check of version 3")
            wait_until(lambda: _served(http, endpoint) == {"2"}, 240, "version 2 back")
        assert load.failures() == []
        with Load(f"{server.url}/serving-endpoints/{endpoint}/invocations") as broken_load:
            _code_version(server.url, tmp_path, BROKEN)  # version 4: answers 500
            broken = wait_until(lambda: _run(http, "4"), 300, "the check of version 4")
            wait_until(lambda: _served(http, endpoint) == {"2"}, 240, "version 2 back again")
        assert kept["state"] == "SUCCEEDED", kept["failure_reason"]
        deploy = kept["tasks"][0]
        assert deploy["detail"]["steps_done"] == [50, 100]
        assert "50% of the traffic" in deploy["logs"]
        versions = [a[1] for a in load.answers]
        assert {"1", "2", "3"} <= set(versions)  # the canary steps shared the traffic

        assert rolled["state"] == "FAILED"
        assert rolled["current_task"] == "watch"
        assert "latency" in rolled["failure_reason"]
        activity = _ok(http.get(f"{HERON}/model-versions/activity",
                                params={"name": "iris", "version": "3"}))["events"]  # fmt: skip
        assert "rolled_back" in [e["kind"] for e in activity]

        assert broken["state"] == "FAILED"
        assert broken["current_task"] == "watch"
        assert "error rate" in broken["failure_reason"], broken["failure_reason"]
        failed = {a[1] for a in broken_load.failures()}
        assert failed == {"4"}  # only the broken version's answers failed, and only 5xx
        assert {a[0] for a in broken_load.failures()} == {500}
