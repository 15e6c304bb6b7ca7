"""What checking for deleted workspaces costs each request (issue #22: a workspace deleted
through one worker must be gone for every worker at once), side by side on this machine.

    .venv/bin/python bench/workspace_changes.py [--requests 500] [--rounds 5]
        [--postgres URI] [--before PATH-TO-ANOTHER-heron]

Servers on one database (a fresh SQLite file, or the empty PostgreSQL database `--postgres`
names), each `heron server --job-workers 0`: `off` (this code, workspaces off), `on` (this
code, `--enable-workspaces`) and, with `--before`, `before` (that `heron` executable, e.g. a
checkout of main before the change, with `--enable-workspaces`). Each reads one experiment
(`experiments/get`) `--requests` times on one keep-alive connection, in workspace `team-a`
(the X-MLFLOW-WORKSPACE header) and in `default`, server after server, `--rounds` times; the
medians of wall time and of the server process's CPU time (user + system, from /proc) per
request. Then the check alone, in process: ChangeWatch.refresh() on the store's version, the
call each request now makes first.

Prints the table and writes it to --json (default bench-results/workspace_changes.json).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from artifacts import (
    RESULTS,
    ROOT,
    HeronServer,
    stop_group,
)

from heron.services.change_watch import ChangeWatch
from heron.store.sql import open_sql_stores

HERON = str(ROOT / ".venv/bin/heron")
API = "/api/2.0/mlflow"
TEAM = {"X-MLFLOW-WORKSPACE": "team-a"}


def fill(server: HeronServer) -> dict[str, str]:
    """team-a and an experiment in it and in `default`: the ids each operation reads."""
    server.post("/api/3.0/mlflow/workspaces", {"name": "team-a"})
    ids = {}
    for place, headers in (("team-a", TEAM), ("default", {})):
        made = server.post(f"{API}/experiments/create", {"name": "bench"}, **headers)
        ids[place] = str(made["experiment_id"])
    return ids


def measure(
    server: HeronServer, path: str, headers: dict[str, str], requests: int
) -> tuple[float, float]:
    """(wall ms, server CPU ms) per request."""
    server.call("GET", path, **headers)  # warm
    cpu, start = server.cpu_s(), time.perf_counter()
    for _ in range(requests):
        server.call("GET", path, **headers)
    wall = time.perf_counter() - start
    return wall * 1000 / requests, (server.cpu_s() - cpu) * 1000 / requests


def check_alone(uri: str, calls: int = 100_000) -> float:
    """CPU microseconds of one ChangeWatch.refresh() on the store's version, in process."""
    stores = open_sql_stores(uri, default_artifact_root="mlflow-artifacts:/")
    try:
        watch = ChangeWatch(stores.workspaces.version)
        watch.refresh()
        start = time.process_time()
        for _ in range(calls):
            watch.refresh()
        return (time.process_time() - start) * 1e6 / calls
    finally:
        stores.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--postgres", help="an empty PostgreSQL database")
    parser.add_argument("--before", help="another `heron` executable to compare with")
    parser.add_argument("--json", type=Path, default=RESULTS / "workspace_changes.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="heron-wsbench-") as tmp:
        root = Path(tmp)
        uri = args.postgres or f"sqlite:///{root}/heron.db"
        kinds = {"off": (HERON, False), "on": (HERON, True)}
        if args.before:
            kinds["before"] = (args.before, True)
        servers: dict[str, HeronServer] = {}
        try:
            for kind, (heron, workspaces) in kinds.items():
                flags = ["--enable-workspaces"] if workspaces else []
                servers[kind] = HeronServer(heron, root / kind, uri, root / "artifacts", *flags)
            ids = fill(servers["on"])
            figures: dict[str, dict[str, list[tuple[float, float]]]] = {}
            for place, headers in (("team-a", TEAM), ("default", {})):
                path = f"{API}/experiments/get?experiment_id={ids[place]}"
                name = f"experiments/get in {place}"
                figures[name] = {kind: [] for kind in servers}
                for _ in range(args.rounds):
                    for kind, server in servers.items():
                        sent = {} if kind == "off" else headers
                        figures[name][kind].append(measure(server, path, sent, args.requests))
        finally:
            for server in servers.values():
                stop_group(server.pid)
        micro = check_alone(uri)
    report(figures, micro, args)


def report(
    figures: dict[str, dict[str, list[tuple[float, float]]]], micro: float,
    args: argparse.Namespace,
) -> None:  # fmt: skip
    rows = []
    for name, by_kind in figures.items():
        row: dict[str, object] = {"operation": name}
        for kind, values in by_kind.items():
            row[f"{kind}_ms"] = round(statistics.median(w for w, _ in values), 3)
            row[f"{kind}_cpu_ms"] = round(statistics.median(c for _, c in values), 3)
        rows.append(row)
        print(name)
        for kind in by_kind:
            print(f"  {kind:7} wall {row[f'{kind}_ms']:8.3f} ms   server CPU "
                  f"{row[f'{kind}_cpu_ms']:8.3f} ms per request")  # fmt: skip
    print(f"ChangeWatch.refresh() alone, in process: {micro:.2f} us of CPU")
    print(f"database: {'postgresql' if args.postgres else 'sqlite'}; "
          f"load average: {os.getloadavg()[0]:.1f}")  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({
        "args": {k: str(v) for k, v in vars(args).items()}, "rows": rows,
        "refresh_us": round(micro, 3)}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
