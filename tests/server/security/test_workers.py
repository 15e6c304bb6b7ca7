"""`heron server --auth --workers 4`: a revoked token, a deleted user and a changed password
are refused on the very next request, whichever worker answers it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.conftest import ServerProcess

pytestmark = pytest.mark.slow
ADMIN = ("boss", "boss-password-1")
TRIES = 24  # requests after each change: with 4 workers, every one of them answers some


class AuthWorkers(ServerProcess):
    def command(self) -> list[str]:
        # The test's client is its own proxy: each phase's failed logins come "from" an
        # address of their own, so no worker's limit of 20 failures a minute is reached.
        return [*super().command(), "--auth", "--workers", "4", "--trusted-proxy", "127.0.0.1"]


@pytest.fixture
def workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AuthWorkers]:
    # Four workers each import the app: on a busy 2-core machine that takes longer than one.
    monkeypatch.setattr("tests.conftest.STARTUP_TIMEOUT_S", 120.0)
    monkeypatch.setenv("HERON_ADMIN_USERNAME", ADMIN[0])  # the first admin, at first start
    monkeypatch.setenv("HERON_ADMIN_PASSWORD", ADMIN[1])
    data = tmp_path / "server"
    data.mkdir()
    server = AuthWorkers(data_dir=data)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _statuses(url: str, **kwargs: object) -> set[int]:
    # A new connection per request, so that uvicorn's workers take turns answering.
    found = set()
    for _ in range(TRIES):
        with httpx.Client(base_url=url, timeout=30, **kwargs) as client:  # type: ignore[arg-type]
            found.add(client.get("/api/2.0/mlflow/experiments/search").status_code)
    return found


def test_changes_reach_every_worker_at_once(workers: AuthWorkers) -> None:
    assert "first admin:   boss" in workers.log_path.read_text()
    assert not os.environ.get("HERON_SERVER_SETTINGS", "").count("boss-password")
    with httpx.Client(base_url=workers.url, auth=ADMIN, timeout=30) as admin:
        made = admin.post("/api/2.0/heron/tokens/create", json={"name": "ci"}).json()
        for user in ("alice", "bob"):
            body = {"username": user, "password": f"{user}-password-1"}
            resp = admin.post("/api/2.0/mlflow/users/create", json=body)
            assert resp.status_code == 200, resp.text
        bearer = {"Authorization": f"Bearer {made['token']}"}
        assert _statuses(workers.url, headers=bearer) == {200}  # cached by every worker now
        assert _statuses(workers.url, auth=("alice", "alice-password-1")) == {200}
        assert _statuses(workers.url, auth=("bob", "bob-password-1")) == {200}

        admin.post(
            "/api/2.0/heron/tokens/revoke", json={"token_id": made["token_info"]["token_id"]}
        )
        revoked = {**bearer, "X-Forwarded-For": "10.0.0.3"}
        assert _statuses(workers.url, headers=revoked) == {401}
        admin.request("DELETE", "/api/2.0/mlflow/users/delete", json={"username": "alice"})
        from_a = {"X-Forwarded-For": "10.0.0.1"}
        assert _statuses(workers.url, auth=("alice", "alice-password-1"), headers=from_a) == {401}
        admin.patch("/api/2.0/mlflow/users/update-password",
                    json={"username": "bob", "password": "bob-password-2"})  # fmt: skip
        from_b = {"X-Forwarded-For": "10.0.0.2"}
        assert _statuses(workers.url, auth=("bob", "bob-password-1"), headers=from_b) == {401}
        # Those failures locked bob out; an admin's reset of the password lifts it.
        admin.patch("/api/2.0/mlflow/users/update-password",
                    json={"username": "bob", "password": "bob-password-3"})  # fmt: skip
        assert _statuses(workers.url, auth=("bob", "bob-password-3")) == {200}
    assert "boss-password" not in workers.log_path.read_text()
