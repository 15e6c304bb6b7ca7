"""`heron worker` and `heron server` as users run them: a worker killed with kill -9 in the
middle of a task leaves it to another once its lease ends, and the job finishes once; the
worker `heron server` starts by default runs a job approved and cancelled with `heron jobs`,
and a server killed with kill -9 while the job waits loses nothing."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest
from click.testing import CliRunner, Result
from tests.conftest import ServerProcess
from tests.jobs.polling import state_is, wait_for

from heron.cli.main import main
from heron.client.client import HeronClient
from heron.client.http.deployment_jobs import run_in
from heron.entities.deployment_jobs import JobRun, RunState

HERON = "/api/2.0/heron"
MLFLOW = "/api/2.0/mlflow"


@dataclass
class JobServer(ServerProcess):
    """`heron server` with extra flags (job workers, what custom tasks may run)."""

    args: list[str] = field(default_factory=list)

    def command(self) -> list[str]:
        return [*super().command(), *self.args]


@dataclass
class WorkerProcess:
    """`heron worker` in a session of its own (kill -9 takes the commands it runs too)."""

    database: str
    artifacts: str
    log: IO[bytes]
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "heron.cli", "worker", "--backend-store-uri", self.database,
             "--artifacts-destination", self.artifacts, "--lease", "3", "--task-command", "sh"],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def heron(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def job_server(tmp_path: Path, database_uri: str) -> Iterator[JobServer]:
    """`heron server` without workers of its own, on the test's database."""
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    server = JobServer(
        data_dir=data_dir, backend_store_uri=database_uri,
        artifacts_destination=str(tmp_path / "artifacts"),
        args=["--job-workers", "0", "--job-task-command", "sh"],
    )  # fmt: skip
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def workers(job_server: JobServer, tmp_path: Path) -> Iterator[list[WorkerProcess]]:
    """Two workers, not started."""
    with open(tmp_path / "workers.log", "ab") as log:
        made = [
            WorkerProcess(job_server.backend_store_uri or "", str(tmp_path / "artifacts"), log)
            for _ in range(2)
        ]
        try:
            yield made
        finally:
            for w in made:
                w.kill()


def _runs(url: str, version: str = "1") -> JobRun:
    body = httpx.get(f"{url}{HERON}/deployment-job-runs/search",
                     params={"name": "fraud", "version": version}, timeout=30).json()  # fmt: skip
    return run_in(body["runs"][0])


def _model_with_job(url: str, tmp_path: Path, definition: str) -> None:
    path = tmp_path / "job.yaml"
    path.write_text(definition)
    heron("jobs", "create", "release", str(path), "--tracking-uri", url)
    httpx.post(f"{url}{MLFLOW}/registered-models/create", json={"name": "fraud"}).raise_for_status()
    heron("jobs", "attach", "fraud", "release", "--tracking-uri", url)
    _new_version(url)


def _new_version(url: str) -> None:
    made = httpx.post(f"{url}{MLFLOW}/model-versions/create",
                      json={"name": "fraud", "source": "mlflow-artifacts:/0/m"})  # fmt: skip
    made.raise_for_status()


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_a_worker_killed_mid_task_leaves_it_to_another_and_the_job_finishes_once(
    job_server: JobServer, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    marker = tmp_path / "marker.txt"
    _model_with_job(job_server.url, tmp_path, f"""
tasks:
  - name: smoke
    type: custom
    command: [sh, -c, "echo start >> {marker}; sleep 5; echo end >> {marker}"]
""")  # fmt: skip
    first, second = workers
    first.start()
    deadline = time.monotonic() + 60
    while _lines(marker) != ["start"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _lines(marker) == ["start"]
    first.kill()
    second.start()
    run = wait_for(lambda: _runs(job_server.url),
                   state_is(RunState.SUCCEEDED, RunState.FAILED), timeout_s=90)  # fmt: skip
    assert run.state == RunState.SUCCEEDED, run.failure_reason
    assert _lines(marker) == ["start", "start", "end"]  # the killed attempt never ended
    assert run.tasks[0].attempts == 2
    events = httpx.get(f"{job_server.url}{HERON}/model-versions/activity",
                       params={"name": "fraud", "version": "1"}).json()["events"]  # fmt: skip
    assert [e["kind"] for e in events].count("deployment_job_finished") == 1
    shown = heron("jobs", "status", run.run_id, "--tracking-uri", job_server.url).output
    assert "SUCCEEDED" in shown
    assert "after 2 attempts" in shown


def test_heron_server_runs_jobs_with_its_own_worker_and_the_cli_answers(
    server_process: ServerProcess, tmp_path: Path
) -> None:
    url = server_process.url
    _model_with_job(url, tmp_path, "tasks: [{name: approve, type: approve}]")
    waiting = wait_for(lambda: _runs(url), state_is(RunState.APPROVAL), timeout_s=60)
    assert waiting.state == RunState.APPROVAL
    server_process.restart()  # kill -9 of the server and its worker: the job waits on
    listed = heron("jobs", "runs", "--model", "fraud", "--tracking-uri", url).output
    assert waiting.run_id in listed
    assert "APPROVAL" in listed
    heron("jobs", "approve", waiting.run_id, "-m", "ship it", "--tracking-uri", url)
    done = wait_for(lambda: _runs(url), state_is(RunState.SUCCEEDED, RunState.FAILED))
    assert done.state == RunState.SUCCEEDED
    assert done.tasks[0].detail["decision"]["via"] == "cli"
    assert done.tasks[0].detail["decision"]["comment"] == "ship it"
    with HeronClient(url) as client:  # the SDK reads the same over HTTP
        assert [j.name for j in client.list_deployment_jobs()] == ["release"]
        latest = client.get_deployment_job_run_of("fraud", "1")
        assert latest is not None
        assert latest.state == RunState.SUCCEEDED

    _new_version(url)
    second = wait_for(lambda: _runs(url, "2"), state_is(RunState.APPROVAL), timeout_s=60)
    heron("jobs", "cancel", second.run_id, "--reason", "not this one", "--tracking-uri", url)
    assert _runs(url, "2").state == RunState.CANCELLED
    heron("jobs", "retry", second.run_id, "--tracking-uri", url)
    again = wait_for(lambda: _runs(url, "2"), state_is(RunState.APPROVAL), timeout_s=60)
    assert again.run_id == second.run_id
    result = CliRunner().invoke(main, ["jobs", "reject", again.run_id, "--tracking-uri", url])
    assert result.exit_code != 0  # a rejection says why
    heron("jobs", "reject", again.run_id, "-m", "too slow", "--tracking-uri", url)
    failed = wait_for(lambda: _runs(url, "2"), state_is(RunState.FAILED))
    assert failed.failure_reason == "approve: rejected by anonymous: too slow"
