"""Fixtures for the SDK tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import heron
from heron import HeronClient


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """A fresh data directory as $HERON_HOME, no tracking URI set, no run left active."""
    for prefix in ("HERON", "MLFLOW"):
        for suffix in ("TRACKING_URI", "EXPERIMENT_NAME", "EXPERIMENT_ID"):
            monkeypatch.delenv(f"{prefix}_{suffix}", raising=False)
    monkeypatch.setenv("HERON_HOME", str(tmp_path / "home"))
    heron.set_tracking_uri(None)
    yield tmp_path / "home"
    while heron.active_run() is not None:
        heron.end_run()
    heron.set_tracking_uri(None)


@pytest.fixture(params=["local", "http"])
def client(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[HeronClient]:
    """The same client API in process on a data directory and over HTTP (a live server)."""
    uri = (
        str(tmp_path / "data")
        if request.param == "local"
        else request.getfixturevalue("live_server")
    )
    with HeronClient(uri) as c:
        yield c
