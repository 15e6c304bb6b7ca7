"""The machine's own limits, to read Heron's benchmark figures against.

- W2 anchor: SQLite's raw `executemany` of metric rows into Heron's own `metrics` table
  (WAL, synchronous=NORMAL, one transaction per 1,000 rows), with no HTTP and no Python
  above the driver.
- W1/W3 anchor: a bare ASGI app answering every request on the same server stack (uvicorn,
  uvloop, httptools), driven by the same keep-alive httpx client as run_bench.py: 2,000
  sequential POSTs, then 8 threads of 300.

    .venv/bin/python bench/anchors.py [--json bench-results/anchors.json]
"""

from __future__ import annotations

import argparse
import json
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import create_engine

from heron.store.sql.tables import metadata

HELLO_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})
"""


def raw_sqlite_points_per_s(batches: int = 100, size: int = 1000) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "raw.db"
        metadata.create_all(create_engine(f"sqlite:///{path}"))
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        sql = (
            "INSERT INTO metrics (run_uuid, key, step, timestamp, value, is_nan) "
            "VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING"
        )
        run = "0" * 32
        start = time.perf_counter()
        for b in range(batches):
            rows = [(run, f"k{i % 10}", b * 100 + i // 10, 1_700_000_000_000 + b, 0.5)
                    for i in range(size)]  # fmt: skip
            conn.execute("BEGIN")
            conn.executemany(sql, rows)
            conn.execute("COMMIT")
        elapsed = time.perf_counter() - start
        conn.close()
    return batches * size / elapsed


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bare_asgi_requests_per_s() -> tuple[float, float]:
    """(sequential req/s, 8-writer req/s) against a bare ASGI app under uvicorn."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "hello.py").write_text(HELLO_APP)
        port = _free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "hello:app", "--port", str(port),
             "--log-level", "warning", "--no-access-log"],
            cwd=tmp,
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/api/2.0/mlflow/runs/log-metric"
            body = {"run_id": "0" * 32, "key": "m", "value": 1.0, "timestamp": 1, "step": 0}
            deadline = time.monotonic() + 20
            while True:
                try:
                    httpx.post(url, json=body)
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            with httpx.Client() as client:
                start = time.perf_counter()
                for _ in range(2000):
                    client.post(url, json=body)
                sequential = 2000 / (time.perf_counter() - start)

            def writer() -> None:
                with httpx.Client() as client:
                    for _ in range(300):
                        client.post(url, json=body)

            threads = [threading.Thread(target=writer) for _ in range(8)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            concurrent = 2400 / (time.perf_counter() - start)
        finally:
            server.terminate()
            server.wait()
    return sequential, concurrent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    points = raw_sqlite_points_per_s()
    sequential, concurrent = bare_asgi_requests_per_s()
    result = {
        "raw_sqlite_executemany_points_per_s": round(points),
        "bare_asgi_sequential_req_per_s": round(sequential),
        "bare_asgi_8_writers_req_per_s": round(concurrent),
    }
    for name, value in result.items():
        print(f"{name:40s} {value:>10,}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
