"""The machine's own limits, to read Heron's benchmark figures against.

- W2 anchor: SQLite's raw `executemany` of metric rows into Heron's own `metrics` table
  (WAL, synchronous=NORMAL, one transaction per 1,000 rows), with no HTTP and no Python
  above the driver.
- W5 anchors: reading a 100,000-step history of one metric from Heron's `metrics` table with
  the raw sqlite3 driver (what any server on SQLite pays before it renders a byte), and the
  benchmark client's own `json.loads` of that history as get-history returns it (httpx's
  `.json()`): together, the least a full history read can take on this machine.
- W1-W4 anchors: the shared benchmark itself (run_bench.py, W1-W4 populate, --scale small)
  against two stand-in servers that store nothing, each answering every request with the
  few fields run_bench.py reads (an experiment id, a run id, an empty history):
  - a bare ASGI app on Heron's server stack (uvicorn, uvloop, httptools): the ceiling of any
    app on that stack;
  - a null server: a bare asyncio protocol that frames each request by its Content-Length
    and writes a canned answer without parsing anything. Its rates are the benchmark
    client's own: no server of any kind answers this client faster on this machine.

    .venv/bin/python bench/anchors.py [--json bench-results/anchors.json] [--quick]
                                      [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine

from heron.store.sql.tables import metadata

# Every field run_bench.py reads from a create or a history answer, and nothing more.
CANNED = (
    b'{"experiment_id":"1","run":{"info":{"run_id":"00000000000000000000000000000000"}},'
    b'"metrics":[]}'
)

HELLO_APP = f"""
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({{"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]}})
    await send({{"type": "http.response.body", "body": {CANNED!r}}})
"""

NULL_SERVER = f"""
import asyncio, sys, uvloop

REPLY = (
    b"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\n"
    b"content-length: {len(CANNED)}\\r\\n\\r\\n" + {CANNED!r}
)


class Null(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.buffer, self.need = transport, bytearray(), None

    def data_received(self, data):
        self.buffer += data
        while True:
            if self.need is None:
                end = self.buffer.find(b"\\r\\n\\r\\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).lower()
                at = head.find(b"content-length:")
                length = int(head[at + 15:].split(b"\\r\\n")[0]) if at >= 0 else 0
                self.need = end + 4 + length
            if len(self.buffer) < self.need:
                return
            del self.buffer[: self.need]
            self.need = None
            self.transport.write(REPLY)


async def main(port):
    server = await asyncio.get_running_loop().create_server(Null, "127.0.0.1", port)
    await server.serve_forever()


uvloop.run(main(int(sys.argv[1])))
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


def w5_history_floor_ms(steps: int = HISTORY_STEPS) -> tuple[float, float]:
    """(raw sqlite3 read of a 100,000-step history, json.loads of its get-history body), ms,
    medians of 5. The points are W5's: value step * 0.01, one timestamp per 1,000 steps."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "raw.db"
        metadata.create_all(create_engine(f"sqlite:///{path}"))
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        run, start = "0" * 32, 1_700_000_000_000
        points = [(run, "h", s, start + s // 1000, s * 0.01) for s in range(steps)]
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


# The figures of run_bench.py's workloads that a stand-in server bounds.
BENCH_FIGURES = {
    "W1": "requests_per_s",
    "W2": "metric_points_per_s",
    "W3": "total_requests_per_s",
    "W4": "populate_runs_per_s",
}


def bench_against(
    command: list[str], port: int, shared: Path, cwd: str, quick: bool
) -> dict[str, float]:
    """run_bench.py's W1-W4 (small scale) against the stand-in server `command` starts."""
    server = subprocess.Popen(command, cwd=cwd)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        out = Path(cwd) / "bench.json"
        subprocess.run(
            [sys.executable, str(shared / "bench" / "run_bench.py"),
             "--url", f"http://127.0.0.1:{port}", "--only", ",".join(BENCH_FIGURES),
             "--scale", "small", "--time-cap", "2" if quick else "20", "--import-module", "",
             *(["--repeats", "1", "--no-wait-quiet"] if quick else []), "--json", str(out)],
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        server.terminate()
        server.wait()
    results = json.loads(out.read_text())["results"]
    return {
        workload: next(f["value"] for f in results[workload]["figures"] if f["name"] == name)
        for workload, name in BENCH_FIGURES.items()
    }


def bare_asgi_figures(shared: Path, quick: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "hello.py").write_text(HELLO_APP)
        port = _free_port()
        command = [sys.executable, "-m", "uvicorn", "hello:app", "--port", str(port),
                   "--log-level", "warning", "--no-access-log"]  # fmt: skip
        return bench_against(command, port, shared, tmp, quick)


def null_server_figures(shared: Path, quick: bool) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        port = _free_port()
        command = [sys.executable, "-c", NULL_SERVER, str(port)]
        return bench_against(command, port, shared, tmp, quick)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--shared",
        type=Path,
        default=Path(os.environ.get("HERON_SHARED", Path(__file__).parents[2] / "shared")),
        help="the shared/ directory holding bench/run_bench.py (default: HERON_SHARED or "
        "../shared beside the repository)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke check of the script, not a measure: few rows, phases cut at 2 s",
    )
    args = parser.parse_args()
    points = raw_sqlite_points_per_s(batches=5 if args.quick else 100)
    history_read, history_parse = w5_history_floor_ms(1000 if args.quick else HISTORY_STEPS)
    result: dict[str, float] = {
        "raw_sqlite_executemany_points_per_s": round(points),
        "raw_sqlite_history_read_100k_ms": round(history_read, 1),
        "client_json_loads_history_100k_ms": round(history_parse, 1),
    }
    for server, figures in (
        ("bare_asgi", bare_asgi_figures(args.shared, args.quick)),
        ("null_server", null_server_figures(args.shared, args.quick)),
    ):
        for workload, name in BENCH_FIGURES.items():
            result[f"{server}_{workload}_{name}"] = round(figures[workload])
    for name, value in result.items():
        print(f"{name:45s} {value:>10,}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
