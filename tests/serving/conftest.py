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
from tests.conftest import PostgresServer, ServerProcess, free_port

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


# --------------------------------------------------------------------------- endpoints


@dataclass
class EndpointServer(ServerProcess):
    """`heron server --serve-endpoints` on any database: it starts `replicas` workers of
    every serving endpoint (in its process group: `kill()` ends them too)."""

    backend_uri: str = ""
    replicas: int = 2

    def command(self) -> list[str]:
        return [
            *heron_command(), "server",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--backend-store-uri", self.backend_uri,
            "--artifacts-destination", str(self.data_dir / "artifacts"),
            "--serve-endpoints", "--endpoint-replicas", str(self.replicas),
        ]  # fmt: skip

    def kill(self) -> None:
        """kill -9 of the server and its workers (the whole process group), even once the
        server itself has exited."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def terminate(self) -> None:
        """SIGTERM to the server alone, as a service manager stops it; waits for it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(90)


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def endpoint_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EndpointServer]:
    """One `heron server --serve-endpoints` (two replicas an endpoint) on SQLite and on
    PostgreSQL, shared by the endpoint tests, with versions 1 and 2 of model `iris`."""
    data_dir = tmp_path_factory.mktemp("endpoints")
    uri = f"sqlite:///{data_dir}/heron.db"
    postgres: PostgresServer | None = None
    if request.param == "postgresql":
        postgres = request.getfixturevalue("postgres_server")
        uri = postgres.create_database()
    running = EndpointServer(data_dir=data_dir, backend_uri=uri, replicas=2)
    try:
        running.start()
        register_iris(running.url, "iris")
        yield running
    finally:
        running.stop()
        if postgres is not None:
            postgres.drop_database(uri)


def register_iris(url: str, name: str, fits: int = 2) -> None:
    """Registers `fits` LogisticRegressions on iris as versions 1.. of model `name`."""
    from sklearn.linear_model import LogisticRegression

    import heron
    import heron.sklearn
    from heron.models.uri import close_clients

    features, labels = sklearn_datasets.load_iris(return_X_y=True, as_frame=True)
    heron.set_tracking_uri(url)
    try:
        for i in range(fits):
            fitted = LogisticRegression(C=0.5 + i, max_iter=300).fit(features, labels)
            with heron.start_run():
                heron.sklearn.log_model(
                    fitted, name="m", input_example=features.head(2), registered_model_name=name
                )
    finally:
        heron.set_tracking_uri(None)
        close_clients()


def wait_until(check: Callable[[], Any], timeout_s: float = 120.0, what: str = "") -> Any:
    """Calls `check` until it returns something true; returns that."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s:.0f} s waiting for {what or check}")
        time.sleep(0.25)


IRIS_ROW = {"dataframe_split": {"columns": IRIS_COLUMNS, "data": [[5.1, 3.5, 1.4, 0.2]]}}


@dataclass
class Load:
    """Requests sent without pause by `threads` threads until stopped, every answer kept:
    (status, served version, request id, error text)."""

    url: str
    body: dict[str, Any] = field(default_factory=lambda: IRIS_ROW)
    threads: int = 2
    answers: list[tuple[int, str, str, str]] = field(default_factory=list)
    _stop: Any = None
    _running: list[Any] = field(default_factory=list)

    def __enter__(self) -> Load:
        import threading

        self._stop = threading.Event()
        for _ in range(self.threads):
            thread = threading.Thread(target=self._send, daemon=True)
            thread.start()
            self._running.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._running:
            thread.join(120)

    def _send(self) -> None:
        import httpx

        with httpx.Client(timeout=90) as client:
            while not self._stop.is_set():
                try:
                    resp = client.post(self.url, json=self.body)
                except httpx.HTTPError as exc:
                    self.answers.append((0, "", "", repr(exc)))
                    continue
                self.answers.append((
                    resp.status_code, resp.headers.get("x-heron-served-version", ""),
                    resp.headers.get("x-request-id", ""),
                    "" if resp.status_code == 200 else resp.text[:300],
                ))  # fmt: skip

    def failures(self) -> list[tuple[int, str, str, str]]:
        return [a for a in self.answers if a[0] != 200]
