"""A search by a user who may see 100 of 100,000 experiments (issue #22: it answers as fast
as a search of those 100 alone would):

    .venv/bin/python bench/auth_search.py [--total 100000] [--mine 100] [--repeats 40]

Two SQLite databases, filled below the API (a bulk insert: the figures are about searching,
not about making 100,000 experiments): `big` holds `--total` experiments, `--mine` of them
(spread evenly) named `mine-*`; `alone` holds only those `--mine`. `heron server` answers
`experiments/search` (max_results 1000, the default order), p50 of `--repeats` calls after a
warm-up, in these cases:

- `auth big`: with --auth, a user with READ granted on the `--mine` experiments searches
  `big` (sees `--mine` of `--total`; the grants filter inside the SQL query);
- `auth alone`: the same user and grants on `alone` (the issue's anchor);
- `open big`: without --auth, a search of `big` for `name LIKE 'mine-%'` (the same 100
  found by a filter instead of grants);
- `open alone`: without --auth, a search of `alone` (the least the server path costs);
- `floor`: the raw sqlite3 driver reading the `--mine` experiments and their tags from `big`
  by id, no HTTP (the least any server on SQLite pays).

Prints the figures and the ratios, writes bench-results/auth_search.json."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from artifacts import RESULTS, ROOT, free_port, stop_group, wait_healthy
from sqlalchemy import create_engine, insert

from heron.store.sql import open_sql_stores
from heron.store.sql.tables import experiments

ADMIN = ("root", "bench-root-password")
USER = ("reader", "bench-reader-password")
SEARCH = "/api/2.0/mlflow/experiments/search"


def fill(directory: Path, total: int, mine: int) -> list[int]:
    """A database of `total` experiments, `mine` of them named `mine-*`; their ids."""
    directory.mkdir(parents=True, exist_ok=True)
    uri = f"sqlite:///{directory}/heron.db"
    open_sql_stores(uri, default_artifact_root="mlflow-artifacts:").close()  # the schema
    step = max(total // mine, 1)
    now = int(time.time() * 1000)
    rows, ids = [], []
    for i in range(total):
        experiment_id = i + 1_000  # clear of the default experiment (0)
        name = f"mine-{i:07d}" if i % step == 0 and len(ids) < mine else f"other-{i:07d}"
        if name.startswith("mine-"):
            ids.append(experiment_id)
        rows.append({
            "experiment_id": experiment_id, "name": name,
            "artifact_location": f"mlflow-artifacts:/{experiment_id}", "lifecycle_stage": "active",
            "creation_time": now - i, "last_update_time": now - i,
        })  # fmt: skip
    engine = create_engine(uri)
    with engine.begin() as conn:
        for start in range(0, len(rows), 10_000):
            conn.execute(insert(experiments), rows[start : start + 10_000])
    engine.dispose()
    return ids


def serve(directory: Path, *, auth: bool) -> tuple[str, int]:
    port = free_port()
    env = {**os.environ, "HERON_ADMIN_USERNAME": ADMIN[0], "HERON_ADMIN_PASSWORD": ADMIN[1]}
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/heron"), "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{directory}/heron.db",
            "--artifacts-destination", str(directory / "artifacts"), "--no-access-log",
            *(["--auth"] if auth else []),
        ],
        stdout=subprocess.DEVNULL, stderr=(directory / "server.log").open("ab"),
        start_new_session=True, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    return url, proc.pid


def grant_reader(url: str, ids: list[int]) -> None:
    with httpx.Client(base_url=url, auth=ADMIN, timeout=60) as admin:
        made = admin.post("/api/2.0/mlflow/users/create",
                          json={"username": USER[0], "password": USER[1]})  # fmt: skip
        assert made.status_code == 200, made.text
        for experiment_id in ids:
            granted = admin.post("/api/2.0/heron/grants/grant", json={
                "principal": USER[0], "principal_type": "user", "privilege": "READ",
                "securable_type": "experiment", "securable_id": str(experiment_id),
            })  # fmt: skip
            assert granted.status_code == 200, granted.text


def p50_search(url: str, auth: Any, repeats: int, filter_string: str = "") -> tuple[float, int]:
    """The median milliseconds of one search, and how many experiments it answered."""
    body: dict[str, Any] = {"max_results": 1000}
    if filter_string:
        body["filter"] = filter_string
    times, found = [], 0
    with httpx.Client(base_url=url, auth=auth, timeout=120) as http:
        for i in range(repeats + 3):
            started = time.perf_counter()
            resp = http.post(SEARCH, json=body)
            elapsed = (time.perf_counter() - started) * 1000
            assert resp.status_code == 200, resp.text
            found = len(resp.json().get("experiments", []))
            if i >= 3:  # after the warm-up
                times.append(elapsed)
    return statistics.median(times), found


def floor(directory: Path, ids: list[int], repeats: int) -> float:
    marks = ",".join("?" * len(ids))
    times = []
    with sqlite3.connect(directory / "heron.db") as conn:
        for _ in range(repeats + 3):
            started = time.perf_counter()
            conn.execute(
                f"SELECT * FROM experiments WHERE experiment_id IN ({marks}) "  # noqa: S608
                "ORDER BY last_update_time DESC", ids,
            ).fetchall()  # fmt: skip
            tags = f"SELECT * FROM experiment_tags WHERE experiment_id IN ({marks})"  # noqa: S608
            conn.execute(tags, ids).fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[3:])


def measure(scratch: Path, total: int, mine: int, repeats: int) -> dict[str, Any]:
    big, alone = scratch / "big", scratch / "alone"
    ids = fill(big, total, mine)
    fill(alone, mine, mine)
    figures: dict[str, Any] = {}
    for name, directory in (("auth big", big), ("auth alone", alone)):
        url, group = serve(directory, auth=True)
        try:
            if name == "auth big":
                grant_reader(url, ids)
            else:
                grant_reader(url, [1_000 + i for i in range(mine)])
            figures[name] = p50_search(url, USER, repeats)
        finally:
            stop_group(group)
    for name, directory in (("open big", big), ("open alone", alone)):
        url, group = serve(directory, auth=False)
        try:
            mine_only = "name LIKE 'mine-%'" if directory == big else ""
            figures[name] = p50_search(url, None, repeats, mine_only)
        finally:
            stop_group(group)
    figures["floor"] = (floor(big, ids, repeats), mine)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--mine", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="heron-auth-search-") as scratch:
        figures = measure(Path(scratch), args.total, args.mine, args.repeats)
    base = figures["auth alone"][0]
    print(f"{'case':<12} {'p50 ms':>9} {'answered':>9} {'/ auth alone':>13}")
    for name, (ms, found) in figures.items():
        print(f"{name:<12} {ms:>9.2f} {found:>9} {ms / base:>13.2f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {name: {"p50_ms": ms, "answered": found} for name, (ms, found) in figures.items()}
    out["args"] = vars(args)
    (RESULTS / "auth_search.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
