"""Field encryption's cost, side by side on this machine (issue #20: "search and run reads are
unchanged"; and what logging sensitive params, tags and traces costs).

    .venv/bin/python bench/field_encryption.py [--runs 200] [--traces 50] [--requests 300]
                                               [--rounds 3]

Two `heron server`s on fresh directories: one plain, one with `--encryption-key` (a key file)
and `--sensitive-keys '*password*,secret.*'`, filled alike (runs with ten params and four
tags, two params and one tag sensitive; traces of five spans with 500-character inputs and
outputs). Each operation runs `--requests` times on one keep-alive connection, on one server
then on the other, `--rounds` times; the medians of wall time and of the server process's
CPU time (user + system, from /proc) per request, and sealed/plain ratios.

Prints the table and writes it to --json (default bench-results/field_encryption.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from artifacts import (
    RESULTS,
    ROOT,
    HeronServer,
    stop_group,
)

from heron.client.http.traces import otlp_body
from heron.entities.trace import Span, SpanStatusCode

HERON = str(ROOT / ".venv/bin/heron")
API = "/api/2.0/mlflow"
PATTERNS = "*password*,secret.*"
TEXT = "lorem ipsum dolor sit amet " * 19  # 513 characters


def start(directory: Path, key_file: Path | None) -> HeronServer:
    """A server on its own SQLite database, sealing with `key_file` if given."""
    sealed = ["--encryption-key", str(key_file), "--sensitive-keys", PATTERNS]
    return HeronServer(HERON, directory, f"sqlite:///{directory}/heron.db",
                       directory / "artifacts", *(sealed if key_file else []))  # fmt: skip


def spans_of(trace_id: str) -> list[Span]:
    start = time.time_ns()
    ids = [uuid.uuid4().hex[:16] for _ in range(5)]
    return [
        Span(
            trace_id=trace_id, span_id=ids[i], parent_span_id=None if i == 0 else ids[0],
            name=f"step-{i}", span_type="LLM", status=SpanStatusCode.OK,
            start_time_ns=start + i, end_time_ns=start + 1_000_000,
            inputs={"prompt": TEXT}, outputs=TEXT,
        )
        for i in range(5)
    ]  # fmt: skip


def send_trace(server: HeronServer, experiment_id: str) -> str:
    trace_id = "tr-" + uuid.uuid4().hex
    headers = {"Content-Type": "application/x-protobuf", "x-mlflow-experiment-id": experiment_id}
    server.call("POST", "/v1/traces", otlp_body(spans_of(trace_id)), **headers)
    return trace_id


def fill(server: HeronServer, runs: int, traces: int) -> dict[str, str]:
    """An experiment with `runs` runs and `traces` traces; the ids the operations use."""
    experiment_id = str(
        server.post(f"{API}/experiments/create", {"name": "bench"})["experiment_id"]
    )
    run_id = ""
    for n in range(runs):
        created = server.post(f"{API}/runs/create", {"experiment_id": experiment_id})
        run_id = str(created["run"]["info"]["run_id"])  # type: ignore[index]
        params = [{"key": f"p{i}", "value": f"{n}.{i}"} for i in range(8)]
        params += [
            {"key": "db_password", "value": f"pw-{n}"},
            {"key": "api_password", "value": "x"},
        ]
        tags = [{"key": f"t{i}", "value": TEXT[:40]} for i in range(3)]
        tags.append({"key": "secret.token", "value": f"tok-{n}"})
        server.post(f"{API}/runs/log-batch", {"run_id": run_id, "params": params, "tags": tags})
    trace_id = ""
    for _ in range(traces):
        trace_id = send_trace(server, experiment_id)
    # The writes go to an experiment of their own: the reads see the same data all along.
    writes = str(server.post(f"{API}/experiments/create", {"name": "writes"})["experiment_id"])
    created = server.post(f"{API}/runs/create", {"experiment_id": writes})
    return {
        "experiment": experiment_id, "run": run_id, "trace": trace_id, "writes": writes,
        "written_run": str(created["run"]["info"]["run_id"]),  # type: ignore[index]
    }  # fmt: skip


def operations(server: HeronServer, ids: dict[str, str]) -> dict[str, Callable[[int], object]]:
    exp, run, trace = ids["experiment"], ids["run"], ids["trace"]
    writes, written = ids["writes"], ids["written_run"]
    salt = uuid.uuid4().hex[:6]
    return {
        "log-param (sensitive key)": lambda i: server.post(
            f"{API}/runs/log-parameter",
            {"run_id": written, "key": f"db_password_{salt}_{i}", "value": f"v{i}"},
        ),
        "set-tag (sensitive key)": lambda i: server.post(
            f"{API}/runs/set-tag", {"run_id": written, "key": f"secret.{salt}.{i}", "value": "v"}
        ),
        "trace ingest (OTLP, 5 spans)": lambda i: send_trace(server, writes),
        "runs/get": lambda i: server.call("GET", f"{API}/runs/get?run_id={run}"),
        "runs/search (100 runs)": lambda i: server.post(
            f"{API}/runs/search", {"experiment_ids": [exp], "max_results": 100}
        ),
        "runs/search filter params.p1": lambda i: server.post(
            f"{API}/runs/search",
            {"experiment_ids": [exp], "filter": "params.p1 = '5.1'", "max_results": 100},
        ),
        "traces/get (5 spans)": lambda i: server.call(
            "GET", f"/api/3.0/mlflow/traces/get?trace_id={trace}"
        ),
        "traces/search (50 infos)": lambda i: server.post(
            "/api/3.0/mlflow/traces/search",
            {"locations": [{"mlflow_experiment": {"experiment_id": exp}}], "max_results": 50},
        ),
    }


def measure(server: HeronServer, op: Callable[[int], object], requests: int) -> tuple[float, float]:
    """(wall ms, server CPU ms) per request."""
    op(-1)  # warm
    cpu, start = server.cpu_s(), time.perf_counter()
    for i in range(requests):
        op(i)
    wall = time.perf_counter() - start
    return wall * 1000 / requests, (server.cpu_s() - cpu) * 1000 / requests


Figures = dict[str, dict[str, list[tuple[float, float]]]]


def side_by_side(
    prefix: str,
    make_operations: Callable[[HeronServer], dict[str, Callable[[int], object]]],
    requests: int,
    rounds: int,
) -> Figures:
    """Starts a plain and a sealed server on fresh directories, fills each through
    `make_operations` and runs each operation `requests` times on one then the other,
    `rounds` times: {operation: {"plain" | "sealed": [(wall ms, CPU ms) a round]}}."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        root = Path(tmp)
        key_file = root / "keys.json"
        subprocess.run([HERON, "keys", "create", str(key_file)], check=True, capture_output=True)
        plain, sealed = start(root / "plain", None), start(root / "sealed", key_file)
        try:
            servers = {"plain": plain, "sealed": sealed}
            ops = {kind: make_operations(server) for kind, server in servers.items()}
            figures: Figures = {}
            for name in ops["plain"]:
                figures[name] = {"plain": [], "sealed": []}
                for _ in range(rounds):
                    for kind in ("plain", "sealed"):
                        figures[name][kind].append(
                            measure(servers[kind], ops[kind][name], requests)
                        )
        finally:
            stop_group(plain.pid)
            stop_group(sealed.pid)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--traces", type=int, default=50)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=RESULTS / "field_encryption.json")
    args = parser.parse_args()
    figures = side_by_side(
        "heron-fields-",
        lambda server: operations(server, fill(server, args.runs, args.traces)),
        args.requests,
        args.rounds,
    )
    report(figures, args)


def report(figures: Figures, args: argparse.Namespace) -> None:
    rows = []
    print(f"{'operation':32} {'plain ms':>9} {'sealed ms':>9} {'ratio':>6}   "
          f"{'plain cpu':>9} {'sealed cpu':>10} {'ratio':>6}")  # fmt: skip
    for name, by_kind in figures.items():
        wall = {k: statistics.median(w for w, _ in v) for k, v in by_kind.items()}
        cpu = {k: statistics.median(c for _, c in v) for k, v in by_kind.items()}
        row = {
            "operation": name,
            "plain_ms": round(wall["plain"], 3), "sealed_ms": round(wall["sealed"], 3),
            "wall_ratio": round(wall["sealed"] / wall["plain"], 3),
            "plain_cpu_ms": round(cpu["plain"], 3), "sealed_cpu_ms": round(cpu["sealed"], 3),
            "cpu_ratio": round(cpu["sealed"] / cpu["plain"], 3) if cpu["plain"] else None,
        }  # fmt: skip
        rows.append(row)
        print(f"{name:32} {row['plain_ms']:9.3f} {row['sealed_ms']:9.3f} {row['wall_ratio']:6.2f}"
              f"   {row['plain_cpu_ms']:9.3f} {row['sealed_cpu_ms']:10.3f} "
              f"{row['cpu_ratio'] or 0:6.2f}")  # fmt: skip
    print(f"load average: {os.getloadavg()[0]:.1f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "rows": rows}, indent=2)
    )


if __name__ == "__main__":
    main()
