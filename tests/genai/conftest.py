"""Fixtures for the GenAI evaluation tests: a fresh tracking destination per test (in process
or a live server over HTTP), and a local OpenAI-compatible judge server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import heron
from heron import tracing
from heron.client.fluent import state
from heron.genai.judges.chat import close_connections

from .judge_server import JudgeServer


def _reset(monkeypatch: pytest.MonkeyPatch) -> None:
    for prefix in ("HERON", "MLFLOW"):
        for suffix in ("TRACKING_URI", "EXPERIMENT_NAME", "EXPERIMENT_ID"):
            monkeypatch.delenv(f"{prefix}_{suffix}", raising=False)
    monkeypatch.delenv("HERON_GENAI_EVAL_MAX_WORKERS", raising=False)


def _finish() -> None:
    tracing.flush(timeout_s=30)
    while heron.active_run() is not None:
        heron.end_run()
    state.tracking_client().close()  # its connections, before the server goes
    heron.set_tracking_uri(None)


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
    _finish()


@pytest.fixture
def local(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """In process only, for tests whose point is not the transport."""
    _reset(monkeypatch)
    monkeypatch.setenv("HERON_HOME", str(tmp_path / "home"))
    heron.set_tracking_uri(str(tmp_path / "home"))
    yield str(tmp_path / "home")
    _finish()


@pytest.fixture
def judge(monkeypatch: pytest.MonkeyPatch, serve_app: Any) -> Iterator[JudgeServer]:
    """A local OpenAI-compatible judge server; the environment points judges at it (model
    `judge`, priced 1 and 2 USD per million input and output tokens)."""
    server = JudgeServer()
    with serve_app(server.app) as url:
        monkeypatch.setenv("HERON_JUDGE_BASE_URL", f"{url}/v1")
        monkeypatch.setenv("HERON_JUDGE_MODEL", "judge")
        monkeypatch.setenv("HERON_JUDGE_PRICES", "1,2")
        for name in ("HERON_JUDGE_API_KEY", "OPENAI_API_KEY", "HERON_JUDGE_BUDGET_USD",
                     "HERON_JUDGE_TOKENS_PER_MINUTE", "HERON_JUDGE_MAX_CONCURRENCY"):  # fmt: skip
            monkeypatch.delenv(name, raising=False)
        server.url = f"{url}/v1"
        yield server
        close_connections(server.url)
