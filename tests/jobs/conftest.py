"""Deployment jobs on a real database: the services, and a worker's runner working off them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from heron.settings import PROXIED_ARTIFACT_ROOT, Settings

HOOKS = "tests.jobs.hooks"


@pytest.fixture
def settings(database_uri: str, tmp_path: Path) -> Settings:
    return Settings(
        backend_store_uri=database_uri,
        artifacts_destination=str(tmp_path / "artifacts"),
        job_task_modules=(HOOKS,),
        job_task_commands=("sh",),
        job_lease_s=3.0,
    )


@pytest.fixture
def services(settings: Settings) -> Iterator[Any]:
    """The services of the test's database (no runner started)."""
    from heron.services import AllowAll
    from heron.services.build import build_services
    from heron.store.sql import open_sql_stores

    stores = open_sql_stores(
        settings.backend_store_uri, default_artifact_root=PROXIED_ARTIFACT_ROOT
    )
    built = build_services(stores, AllowAll(), settings)
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def worker(settings: Settings) -> Iterator[Any]:
    """A worker (its own services on the same database) working off the queue."""
    from heron.jobs.worker import Worker

    started = Worker(settings, poll_s=0.05, approval_poll_s=0.1)
    started.start()
    try:
        yield started
    finally:
        started.close()
