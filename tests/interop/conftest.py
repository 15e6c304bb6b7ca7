"""Runs the real `mlflow` (3.17.2, in .venv-conformance) in a subprocess, for interop tests.

Heron never imports mlflow; these tests hand models back and forth through files (and a
Heron server) between the two Pythons. `scripts/dev-setup --conformance` builds the venv."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import heron
from heron.client.fluent.state import close_clients
from heron.client.uri import choose_tracking_uri

ROOT = Path(__file__).resolve().parents[2]
MLFLOW_PYTHON = ROOT / ".venv-conformance" / "bin" / "python"

RunMlflow = Callable[..., Any]


def run_mlflow_code(code: str, workdir: Path, **env: str) -> Any:
    """Runs `code` with MLflow's Python in `workdir`; returns the JSON its last line printed."""
    if not MLFLOW_PYTHON.exists():
        pytest.fail(
            f"{MLFLOW_PYTHON} is missing: run scripts/dev-setup --conformance "
            "(scripts/test does it)"
        )
    script = workdir / "mlflow_side.py"
    script.write_text(textwrap.dedent(code))
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "HERON_"))}
    environment.update(
        MLFLOW_ALLOW_PICKLE_DESERIALIZATION="true",
        PYTHONWARNINGS="ignore",
        GIT_PYTHON_REFRESH="quiet",
        **env,
    )
    done = subprocess.run(
        [str(MLFLOW_PYTHON), str(script)],
        capture_output=True,
        text=True,
        env=environment,
        cwd=workdir,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"mlflow side failed:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def run_mlflow(tmp_path: Path) -> RunMlflow:
    """`run_mlflow(code, **env)` runs `code` with MLflow's Python (in a temporary working
    directory) and returns the JSON value the code printed on its last line."""
    return lambda code, **env: run_mlflow_code(code, tmp_path, **env)


@pytest.fixture(scope="session")
def run_mlflow_once(tmp_path_factory: pytest.TempPathFactory) -> RunMlflow:
    """Like `run_mlflow`, for session fixtures (MLflow takes seconds to import)."""
    return lambda code, **env: run_mlflow_code(code, tmp_path_factory.mktemp("mlflow"), **env)


@pytest.fixture(scope="session")
def iris() -> tuple[Any, Any]:
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="session")
def iris_model(iris: tuple[Any, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=300).fit(*iris)


@pytest.fixture
def server(live_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A Heron server (`live_server`) that no tracking variable of the tests' environment
    points away from; afterwards runs left active are ended and the SDK's clients closed."""
    for name in ("HERON_TRACKING_URI", "MLFLOW_TRACKING_URI", "MLFLOW_EXPERIMENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    yield live_server
    while heron.active_run() is not None:
        heron.end_run()
    choose_tracking_uri(None)
    close_clients()
