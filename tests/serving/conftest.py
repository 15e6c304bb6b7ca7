"""Fixtures for the serving tests: models on disk and `heron models serve` processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest
from tests.conftest import free_port

pd = pytest.importorskip("pandas")
sklearn_datasets = pytest.importorskip("sklearn.datasets")

IRIS_COLUMNS = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]


def heron_command() -> list[str]:
    import sys

    script = Path(sys.executable).parent / "heron"
    return [str(script)] if script.exists() else [sys.executable, "-m", "heron.cli"]


@dataclass
class ScoringServer:
    """`heron models serve` in a subprocess on a free port of 127.0.0.1."""

    args: list[str]
    log_path: Path
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(
        self,
        timeout_s: float = 90.0,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """Starts `heron models serve` (or `command`) and waits for `/ping`."""
        self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        command = command or [*heron_command(), "models", "serve", *self.args, "-p", str(self.port)]
        self.proc = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True, env=env,
        )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as resp:  # noqa: S310
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.05)
        self.stop()
        pytest.fail(f"the scoring server did not start:\n{self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


StartServer = Callable[..., ScoringServer]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """`start_server(model_dir, *more_args)` starts a scoring server; all stop at the end."""
    servers: list[ScoringServer] = []

    def start(model: Path | str, *args: str) -> ScoringServer:
        server = ScoringServer(["-m", str(model), *args], tmp_path / f"serve-{len(servers)}.log")
        servers.append(server)
        server.start()
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="session")
def iris() -> tuple[Any, Any]:
    return sklearn_datasets.load_iris(return_X_y=True, as_frame=True)


@pytest.fixture(scope="session")
def iris_model(iris: tuple[Any, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=300).fit(*iris)


@pytest.fixture(scope="session")
def iris_dir(tmp_path_factory: pytest.TempPathFactory, iris: Any, iris_model: Any) -> Path:
    import heron.sklearn

    path = tmp_path_factory.mktemp("models") / "iris"
    heron.sklearn.save_model(iris_model, path, input_example=iris[0].head(2))
    return path


def code_model(directory: Path, source: str, **save_options: Any) -> Path:
    """A models-from-code model whose file holds `source` (a PythonModel subclass named
    `Model`, or any code ending in `set_model(...)`)."""
    import heron.pyfunc

    code = directory / f"{directory.name}_code.py"
    directory.mkdir(parents=True, exist_ok=True)
    code.write_text(textwrap.dedent(source))
    path = directory / "model"
    heron.pyfunc.save_model(path, python_model=str(code), **save_options)
    return path
