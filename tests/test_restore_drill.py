"""The restore drill: under steady writes from several clients, `heron backup create`, then
`kill -9` of the server, `heron backup restore` on a fresh directory (and a fresh PostgreSQL
cluster), and every write acknowledged before the backup's snapshot is there, with its
artifacts and their digests."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import ServerProcess

WRITERS = 4
API = "/api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def heron_command(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "heron"
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, check=False, timeout=300
    )


@dataclass
class Acknowledged:
    """What the server acknowledged, with the time (ms) of each answer."""

    metrics: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # run -> (step, t)
    files: list[tuple[str, str, int]] = field(default_factory=list)  # (path, sha256, t)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _writer(url: str, experiment_id: str, run_id: str, acked: Acknowledged, stop: Any) -> None:
    with httpx.Client(base_url=url, timeout=10) as http:
        step = 0
        while not stop.is_set():
            body = {"run_id": run_id, "key": "m", "value": step, "timestamp": 1, "step": step}
            try:
                answer = http.post(f"{API}/runs/log-metric", json=body)
                if answer.status_code == 200:
                    with acked.lock:
                        acked.metrics[run_id].append((step, int(time.time() * 1000)))
                if step % 10 == 0:
                    content = os.urandom(1000 + step)
                    path = f"{experiment_id}/{run_id}/artifacts/f{step}.bin"
                    put = http.put(f"{PROXY}/{path}", content=content)
                    if put.status_code == 200:
                        digest = hashlib.sha256(content).hexdigest()
                        with acked.lock:
                            acked.files.append((path, digest, int(time.time() * 1000)))
            except httpx.HTTPError:
                return  # the server is gone: nothing more is acknowledged
            step += 1


def _drill(
    server: ServerProcess, backups: Path, store_flags: list[str]
) -> tuple[int, Acknowledged]:
    """Writes under load, takes a backup mid-load, kills the server; returns the backup's
    snapshot time and what was acknowledged."""
    with httpx.Client(base_url=server.url, timeout=10) as http:
        experiment_id = http.post(f"{API}/experiments/create", json={"name": "drill"}).json()[
            "experiment_id"
        ]
        run_ids = [
            http.post(f"{API}/runs/create", json={"experiment_id": experiment_id}).json()["run"][
                "info"
            ]["run_id"]
            for _ in range(WRITERS)
        ]
    acked = Acknowledged(metrics={run_id: [] for run_id in run_ids})
    stop = threading.Event()
    threads = [
        threading.Thread(target=_writer, args=(server.url, experiment_id, r, acked, stop))
        for r in run_ids
    ]
    for thread in threads:
        thread.start()
    try:
        time.sleep(1.5)
        created = heron_command("backup", "create", str(backups), *store_flags)
        assert created.returncode == 0, created.stderr + created.stdout
        time.sleep(0.5)  # writes go on after the backup, and are not in it
    finally:
        server.kill()
        stop.set()
        for thread in threads:
            thread.join()
    listed = heron_command("backup", "list", str(backups))
    assert listed.returncode == 0, listed.stderr
    from heron.services.backup_manifest import read_manifest
    from heron.store.artifacts import LocalArtifactRepository

    manifest = read_manifest(LocalArtifactRepository(backups), "latest")
    return manifest.snapshot_ms, acked


def _check_restored(url: str, snapshot_ms: int, acked: Acknowledged) -> None:
    before = [
        (run_id, step)
        for run_id, steps in acked.metrics.items()
        for step, t in steps
        if t < snapshot_ms
    ]
    files = [(path, digest) for path, digest, t in acked.files if t < snapshot_ms]
    assert len(before) > 50, "the load never got going before the backup"
    assert files, "no artifact was acknowledged before the backup"
    with httpx.Client(base_url=url, timeout=10) as http:
        for run_id in acked.metrics:
            history = http.get(
                f"{API}/metrics/get-history", params={"run_id": run_id, "metric_key": "m"}
            ).json()
            stored = {m["step"] for m in history.get("metrics", [])}
            missing = {s for r, s in before if r == run_id} - stored
            assert not missing, f"run {run_id} lost acknowledged steps {sorted(missing)[:10]}"
        for path, digest in files:
            answer = http.get(f"{PROXY}/{path}")
            assert answer.status_code == 200, path
            assert hashlib.sha256(answer.content).hexdigest() == digest, path


@pytest.mark.slow
def test_restore_drill_on_sqlite(server_process: ServerProcess, tmp_path: Path) -> None:
    data = server_process.data_dir
    flags = [
        "--backend-store-uri",
        f"sqlite:///{data}/heron.db",
        "--artifacts-destination",
        str(data / "artifacts"),
    ]
    snapshot_ms, acked = _drill(server_process, tmp_path / "backups", flags)

    fresh = tmp_path / "new-machine"
    fresh.mkdir()
    restored = heron_command(
        "backup", "restore", str(tmp_path / "backups"),
        "--backend-store-uri", f"sqlite:///{fresh}/heron.db",
        "--artifacts-destination", str(fresh / "artifacts"),
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr + restored.stdout
    server = ServerProcess(data_dir=fresh)
    server.start()
    try:
        _check_restored(server.url, snapshot_ms, acked)
    finally:
        server.stop()


@pytest.mark.slow
@pytest.mark.postgres
def test_restore_drill_on_postgresql_into_a_fresh_cluster(
    postgres_server: Any, fresh_postgres_cluster: Any, tmp_path: Path
) -> None:
    source_uri = postgres_server.create_database()
    data = tmp_path / "server"
    data.mkdir()
    server = ServerProcess(data_dir=data, backend_store_uri=source_uri)
    server.start()
    try:
        flags = [
            "--backend-store-uri", source_uri, "--artifacts-destination", str(data / "artifacts")
        ]  # fmt: skip
        snapshot_ms, acked = _drill(server, tmp_path / "backups", flags)
    finally:
        server.stop()
        postgres_server.drop_database(source_uri)

    target_uri = fresh_postgres_cluster.create_database()
    fresh = tmp_path / "new-machine"
    fresh.mkdir()
    restored = heron_command(
        "backup", "restore", str(tmp_path / "backups"),
        "--backend-store-uri", target_uri,
        "--artifacts-destination", str(fresh / "artifacts"),
    )  # fmt: skip
    assert restored.returncode == 0, restored.stderr + restored.stdout
    server = ServerProcess(data_dir=fresh, backend_store_uri=target_uri)
    server.start()
    try:
        _check_restored(server.url, snapshot_ms, acked)
    finally:
        server.stop()
