"""Fixtures for the server tests: one app on a temporary SQLite database, served by uvicorn."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette

from heron.settings import Settings

MAX_REQUEST_BYTES = 256 * 1024


@contextlib.contextmanager
def serve(app: Starlette) -> Iterator[str]:
    """Runs `app` under uvicorn in a thread on a free port; yields its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="session")
def server_app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    from heron.server.app import create_app  # the wire tests need no stores

    home = tmp_path_factory.mktemp("server")
    return create_app(Settings.for_home(home, max_request_bytes=MAX_REQUEST_BYTES))


@pytest.fixture(scope="session")
def http(server_app: Starlette) -> Iterator[httpx.Client]:
    with serve(server_app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def serve_app() -> Callable[[Starlette], contextlib.AbstractContextManager[str]]:
    """Serves another app for the length of a `with` block: `with serve_app(app) as url:`."""
    return serve


@pytest.fixture(scope="session")
def max_request_bytes() -> int:
    return MAX_REQUEST_BYTES


@pytest.fixture
def experiment_id(http: httpx.Client) -> str:
    resp = http.post("/api/2.0/mlflow/experiments/create", json={"name": f"exp-{uuid.uuid4()}"})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["experiment_id"])


@pytest.fixture
def run_id(http: httpx.Client, experiment_id: str) -> str:
    resp = http.post("/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id})
    assert resp.status_code == 200, resp.text
    return str(resp.json()["run"]["info"]["run_id"])
