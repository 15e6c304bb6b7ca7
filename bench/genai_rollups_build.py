"""The first build of a month of the GenAI overview's hourly rollups, beside the floor of
plain grouped reads of the same raw rows (issue #23).

    .venv/bin/python bench/genai_rollups_build.py --reuse DIR [--postgres URI] [--repeats 1]

DIR is one that bench/genai_overview.py filled (`--reuse DIR`, with `--postgres URI` for a
PostgreSQL database): its bench-state.json names the experiment and its window. Each repeat
DELETES that experiment's rollup rows and builds every whole hour of the window again, as
the first overview after an upgrade does (trace_rollups.ensure), then times:

- the floor: each part's raw rows read once, grouped by hour (traces: count, errors,
  tokens, cost; valid feedback: count and sum; TOOL spans: count and errors), and the two
  lookups of each trace the rollups are keyed by (its environment, its spans' types);
- the build.

For each: this process's CPU and wall time and, on PostgreSQL, the CPU of the database's
processes (a local cluster: read from /proc), in seconds. Use a copy of the data: the build
takes the experiment's write lock for each transaction of hours. Writes
bench-results/genai_rollups_build.json (or `--out`).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from artifacts import RESULTS
from sqlalchemy import text

HOUR = 3_600_000
DAY = 86_400_000
FLOOR = {
    "traces by hour": (
        "SELECT request_time / 3600000, count(*), sum(CASE WHEN state = 'ERROR' THEN 1 ELSE 0"
        " END), sum(input_tokens), sum(output_tokens), sum(total_tokens), sum(total_cost)"
        " FROM traces WHERE experiment_id = :e AND request_time >= :lo AND request_time < :hi"
        " GROUP BY 1"
    ),
    "feedback by hour": (
        "SELECT trace_time / 3600000, name, count(score), sum(score) FROM assessments"
        " WHERE experiment_id = :e AND trace_time >= :lo AND trace_time < :hi"
        " AND kind = 'FEEDBACK' AND valid GROUP BY 1, 2"
    ),
    "TOOL spans by hour": (
        "SELECT start_time_ns / 3600000000000, name, count(*), sum(CASE WHEN status = 'ERROR'"
        " THEN 1 ELSE 0 END) FROM spans WHERE experiment_id = :e AND span_type = 'TOOL'"
        " AND start_time_ns >= :lo * 1000000 AND start_time_ns < :hi * 1000000 GROUP BY 1, 2"
    ),
    "each trace's environment": (
        "SELECT count(m.value) FROM traces t LEFT JOIN trace_metadata m ON m.trace_id ="
        " t.trace_id AND m.key = 'mlflow.source.type' WHERE t.experiment_id = :e"
        " AND t.request_time >= :lo AND t.request_time < :hi"
    ),
    "each trace's spans (their types)": (
        "SELECT count(s.span_type) FROM traces t JOIN spans s ON s.trace_id = t.trace_id"
        " WHERE t.experiment_id = :e AND t.request_time >= :lo AND t.request_time < :hi"
    ),
}


def database_cpu_s(database: Any) -> Callable[[], float]:
    """The CPU seconds used so far by the PostgreSQL cluster's processes (its postmaster's
    children, living and exited); 0 on SQLite (the work is in the caller's process)."""
    if database.dialect != "postgresql":
        return lambda: 0.0
    with database.read() as conn:
        backend = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    postmaster = int(_stat(backend)[1])

    def used() -> float:
        ticks = 0
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                fields = _stat(int(entry.name))
                if fields and int(fields[1]) == postmaster:  # utime, stime
                    ticks += int(fields[11]) + int(fields[12])
        fields = _stat(postmaster)  # its own time and its exited children's
        ticks += sum(int(f) for f in fields[11:15])
        return ticks / os.sysconf("SC_CLK_TCK")

    return used


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command (state first), or [] if it is gone."""
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return []


def timed(action: Callable[[], object], database: Callable[[], float]) -> dict[str, float]:
    cpu, wall, db = time.process_time(), time.perf_counter(), database()
    action()
    return {
        "cpu_s": round(time.process_time() - cpu, 2),
        "wall_s": round(time.perf_counter() - wall, 2),
        "database_cpu_s": round(database() - db, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reuse", type=Path, required=True, help="a filled bench directory")
    parser.add_argument("--postgres", help="the PostgreSQL database that DIR's fill made")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=RESULTS / "genai_rollups_build.json")
    args = parser.parse_args()
    from heron.store.sql import open_sql_stores
    from heron.store.sql.tables_rollups import ROLLUP_TABLES
    from heron.store.sql.trace_rollups import ensure

    facts = json.loads((args.reuse / "bench-state.json").read_text())
    uri = args.postgres or f"sqlite:///{args.reuse}/heron.db"
    stores = open_sql_stores(uri, default_artifact_root="mlflow-artifacts:")
    experiment_id = int(facts["experiment_id"])
    lo = -(-(facts["filled_at_ms"] - facts["days"] * DAY) // HOUR) * HOUR
    hi = facts["filled_at_ms"] // HOUR * HOUR
    hours = range(lo, hi, HOUR)
    database = database_cpu_s(stores.database)
    found: dict[str, Any] = {"database": stores.database.dialect, "hours": len(hours)}

    def read(sql: str) -> None:
        with stores.database.read() as conn:
            conn.execute(text(sql), {"e": experiment_id, "lo": lo, "hi": hi}).fetchall()

    def drop() -> None:
        def run(conn: Any) -> None:
            for table in ROLLUP_TABLES:
                conn.execute(table.delete().where(table.c.experiment_id == experiment_id))

        stores.database.write(run)

    try:
        runs: dict[str, list[dict[str, float]]] = {}
        for _ in range(args.repeats):
            for name, sql in FLOOR.items():
                runs.setdefault(f"floor: {name}", []).append(timed(lambda s=sql: read(s), database))
            drop()
            runs.setdefault("build", []).append(
                timed(lambda: ensure(stores.database, experiment_id, hours), database)
            )
            print(json.dumps({k: v[-1] for k, v in runs.items()}), flush=True)
        for name, times in runs.items():
            found[name] = {k: statistics.median(t[k] for t in times) for k in times[0]}
    finally:
        stores.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(found, indent=2))
    print(json.dumps(found, indent=1))


if __name__ == "__main__":
    main()
