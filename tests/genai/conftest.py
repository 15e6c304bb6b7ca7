"""Fixtures for the GenAI evaluation tests: a fresh tracking destination per test (in process
or a live server over HTTP), and a local OpenAI-compatible judge server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import heron
from heron import tracing


def _reset(monkeypatch: pytest.MonkeyPatch) -> None:
    for prefix in ("HERON", "MLFLOW"):
        for suffix in ("TRACKING_URI", "EXPERIMENT_NAME", "EXPERIMENT_ID"):
            monkeypatch.delenv(f"{prefix}_{suffix}", raising=False)
    monkeypatch.delenv("HERON_GENAI_EVAL_MAX_WORKERS", raising=False)


@pytest.fixture(params=["local", "http"])
def destination(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[str]:
    """Evaluations log in process to a fresh data directory, or to a live server over HTTP."""
    _reset(monkeypatch)
    monkeypatch.setenv("HERON_HOME", str(tmp_path / "home"))
    if request.param == "local":
        heron.set_tracking_uri(str(tmp_path / "home"))
        yield "local"
    else:
        url = request.getfixturevalue("live_server")
        heron.set_tracking_uri(url)
        yield url
    tracing.flush(timeout_s=30)
    while heron.active_run() is not None:
        heron.end_run()
    heron.set_tracking_uri(None)


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """In process only, for tests whose point is not the transport."""
    _reset(monkeypatch)
    monkeypatch.setenv("HERON_HOME", str(tmp_path / "home"))
    heron.set_tracking_uri(str(tmp_path / "home"))
    yield str(tmp_path / "home")
    tracing.flush(timeout_s=30)
    while heron.active_run() is not None:
        heron.end_run()
    heron.set_tracking_uri(None)
