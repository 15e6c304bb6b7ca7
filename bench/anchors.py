"""The machine's own limits, to read Heron's benchmark figures against.

- W2 anchor: SQLite's raw `executemany` of metric rows into Heron's own `metrics` table
  (WAL, synchronous=NORMAL, one transaction per 1,000 rows), with no HTTP and no Python
  above the driver.
- W5 anchors: reading a 100,000-step history of one metric from Heron's `metrics` table with
  the raw sqlite3 driver (what any server on SQLite pays before it renders a byte), and the
  benchmark client's own `json.loads` of that history as get-history returns it (httpx's
  `.json()`): together, the least a full history read can take on this machine.
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
import statistics
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


HISTORY_STEPS = 100_000


def w5_history_floor_ms() -> tuple[float, float]:
    """(raw sqlite3 read of a 100,000-step history, json.loads of its get-history body), ms,
    medians of 5. The points are W5's: value step * 0.01, one timestamp per 1,000 steps."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "raw.db"
        metadata.create_all(create_engine(f"sqlite:///{path}"))
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        run, start = "0" * 32, 1_700_000_000_000
        points = [(run, "h", s, start + s // 1000, s * 0.01) for s in range(HISTORY_STEPS)]
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO metrics (run_uuid, key, step, timestamp, value, is_nan) "
            "VALUES (?, ?, ?, ?, ?, 0)",
            points,
        )
        conn.execute("COMMIT")
        sql = (
            "SELECT step, timestamp, value, is_nan FROM metrics WHERE run_uuid = ? AND key = ? "
            "ORDER BY step, timestamp, value, is_nan"
        )
        reads = []
        for _ in range(5):
            began = time.perf_counter()
            conn.execute(sql, (run, "h")).fetchall()
            reads.append(time.perf_counter() - began)
        conn.close()
    body = json.dumps(  # compact, as Heron's server writes it
        {
            "metrics": [
                {"key": k, "value": v, "timestamp": t, "step": s} for _, k, s, t, v in points
            ]
        },
        separators=(",", ":"),
    )
    parses = []
    for _ in range(5):
        began = time.perf_counter()
        json.loads(body)
        parses.append(time.perf_counter() - began)
    return statistics.median(reads) * 1000, statistics.median(parses) * 1000


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
    history_read, history_parse = w5_history_floor_ms()
    sequential, concurrent = bare_asgi_requests_per_s()
    result = {
        "raw_sqlite_executemany_points_per_s": round(points),
        "raw_sqlite_history_read_100k_ms": round(history_read, 1),
        "client_json_loads_history_100k_ms": round(history_parse, 1),
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
