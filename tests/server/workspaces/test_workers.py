"""`heron server --enable-workspaces --workers 2` (SQLite and PostgreSQL): a workspace deleted
through one worker is gone for every worker on the very next request, and the experiments a
deletion with mode=SET_DEFAULT moved are found in `default` at once, whichever worker answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import ServerProcess

pytestmark = pytest.mark.slow
API = "/api/2.0/mlflow"
WS = "/api/3.0/mlflow/workspaces"
TRIES = 16  # requests after each change: with 2 workers, both answer some


class WorkspaceWorkers(ServerProcess):
    def command(self) -> list[str]:
        return [*super().command(), "--enable-workspaces"]


@pytest.fixture
def workers(
    tmp_path: Path, database_uri: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[WorkspaceWorkers]:
    monkeypatch.setattr("tests.conftest.STARTUP_TIMEOUT_S", 120.0)  # a busy 2-core machine
    data = tmp_path / "server"
    data.mkdir()
    server = WorkspaceWorkers(data_dir=data, backend_store_uri=database_uri, workers=2)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def statuses(url: str, method: str, path: str, **kwargs: object) -> list[int]:
    # A new connection per request, so that uvicorn's workers take turns answering.
    found = []
    for _ in range(TRIES):
        with httpx.Client(base_url=url, timeout=30) as client:
            found.append(client.request(method, path, **kwargs).status_code)  # type: ignore[arg-type]
    return found


def test_a_deleted_workspace_is_gone_for_every_worker_at_once(workers: WorkspaceWorkers) -> None:
    url, team = workers.url, {"X-MLFLOW-WORKSPACE": "team-a"}
    with httpx.Client(base_url=url, timeout=30) as client:
        assert client.post(WS, json={"name": "team-a"}).status_code == 201
        # Every worker has now seen team-a exist (and remembers it).
        assert set(statuses(url, "POST", f"{API}/experiments/search", json={}, headers=team)) == {
            200
        }
        assert client.delete(f"{WS}/team-a").status_code == 204
    after = statuses(url, "POST", f"{API}/experiments/create", json={"name": "x"}, headers=team)
    assert set(after) == {404}, after  # no experiment made in a workspace that is gone


def test_moved_experiments_are_found_in_default_by_every_worker(
    workers: WorkspaceWorkers,
) -> None:
    url, team = workers.url, {"X-MLFLOW-WORKSPACE": "team-b"}
    with httpx.Client(base_url=url, timeout=30) as client:
        assert client.post(WS, json={"name": "team-b"}).status_code == 201
        made = client.post(f"{API}/experiments/create", json={"name": "moved"}, headers=team)
        experiment = {"experiment_id": made.json()["experiment_id"]}
        # Every worker has now seen the experiment in team-b.
        assert set(statuses(url, "GET", f"{API}/experiments/get", params=experiment,
                            headers=team)) == {200}  # fmt: skip
        gone = client.delete(f"{WS}/team-b", params={"mode": "SET_DEFAULT"})
        assert gone.status_code == 204, gone.text
    found = statuses(url, "GET", f"{API}/experiments/get", params=experiment)
    assert set(found) == {200}, found
