"""Fixtures for the server tests: one app on a temporary SQLite database, served by uvicorn."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from heron.settings import Settings

MAX_REQUEST_BYTES = 256 * 1024


@pytest.fixture(scope="session")
def server_app(tmp_path_factory: pytest.TempPathFactory) -> Starlette:
    from heron.app import create_app  # the wire tests need no stores

    home = tmp_path_factory.mktemp("server")
    return create_app(Settings.for_home(home, max_request_bytes=MAX_REQUEST_BYTES))


@pytest.fixture(scope="session")
def http(server_app: Starlette, serve_app: Any) -> Iterator[httpx.Client]:
    with serve_app(server_app) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client


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
