"""A real server with `--enable-workspaces` (and no --auth), once on SQLite and once on
PostgreSQL; the modules that need --auth make their own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from heron.settings import Settings


@pytest.fixture
def server(tmp_path: Path, serve_settings: Any, database_uri: str) -> Iterator[httpx.Client]:
    """An httpx client of the server; its default artifact root is mlflow-artifacts:
    (proxied to `tmp_path/artifacts`)."""
    settings = Settings(
        backend_store_uri=database_uri,
        artifacts_destination=str(tmp_path / "artifacts"),
        enable_workspaces=True,
    )
    with serve_settings(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        yield client
