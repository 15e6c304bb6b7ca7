"""The overview read from the raw rows under a filter the rollups cannot answer, beside its
floor (issue #23), on a database bench/genai_overview.py filled.

    .venv/bin/python bench/genai_overview_raw.py --reuse DIR [--postgres URI] [--repeats 3]
        [--out bench-results/genai_overview_raw.json]

For each filter of CASES over the last 7 days by hour: the store's overview with
`rollups=False` (every part read raw, the filter in each statement: the reference), the
store's overview as a page reads it (a tag past 5,000 traces: the window in two slices at
once, each with a temporary table of its passing traces that the parts' index ranges are
matched against; an environment or span type: the rollups) and the floor, the
one SQL statement that only counts the traces of the window that pass the filter
(trace_overview_raw.floor). Median CPU ms of this process and wall ms; on
PostgreSQL the database works in its own processes, so read the wall time there.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAY, HOUR = 86_400_000, 3_600_000
CASES = {
    "7 days, tag team=search": "tags.team = 'search'",
    "7 days, staging": "metadata.`mlflow.source.type` = 'staging'",
    "7 days, span type TOOL": "span.type = 'TOOL'",
}


def _timed(fn: Any) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000


def _median(times: list[tuple[float, float]]) -> dict[str, float]:
    return {
        "cpu_ms": statistics.median(t[0] for t in times),
        "wall_ms": statistics.median(t[1] for t in times),
    }


def measure(uri: str, experiment_id: str, repeats: int) -> dict[str, Any]:
    from heron.search.traces import parse_trace_filter
    from heron.services.trace_analytics import buckets
    from heron.store.sql import open_sql_stores
    from heron.store.sql.trace_overview import overview
    from heron.store.sql.trace_overview_raw import floor
    from heron.store.sql.traces_search import condition
    from heron.store.trace_analytics import Window

    stores = open_sql_stores(uri, default_artifact_root="mlflow-artifacts:")
    now = int(time.time() * 1000)
    found: dict[str, Any] = {}
    try:
        for case, text in CASES.items():
            window = Window(experiment_id=experiment_id, start_ms=now - 7 * DAY,
                            end_ms=now + 1, filter=parse_trace_filter(text))  # fmt: skip
            cut = buckets(window.start_ms, window.end_ms, HOUR)
            query = floor(int(experiment_id), [condition(c) for c in window.filter],
                          window.start_ms, window.end_ms)  # fmt: skip

            def count(query: Any = query, case: str = case) -> None:
                with stores.database.read() as conn:
                    found[f"{case}, traces"] = conn.execute(query).scalar()

            def raw(window: Window = window, cut: Any = cut) -> None:
                overview(stores.database, window, cut, rollups=False)

            def store(window: Window = window, cut: Any = cut) -> None:
                overview(stores.database, window, cut)

            found[f"{case}, floor"] = _median([_timed(count) for _ in range(repeats)])
            found[f"{case}, raw"] = _median([_timed(raw) for _ in range(repeats)])
            found[f"{case}, store"] = _median([_timed(store) for _ in range(repeats)])
            print(case, found[f"{case}, traces"], found[f"{case}, floor"],
                  found[f"{case}, raw"], found[f"{case}, store"], flush=True)  # fmt: skip
    finally:
        stores.close()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reuse", type=Path, required=True, help="genai_overview.py's DIR")
    parser.add_argument("--postgres", help="the PostgreSQL database genai_overview.py filled")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "bench-results/genai_overview_raw.json")
    args = parser.parse_args()
    facts = json.loads((args.reuse / "bench-state.json").read_text())
    uri = args.postgres or f"sqlite:///{args.reuse}/heron.db"
    report = {"database": "postgresql" if args.postgres else "sqlite", "repeats": args.repeats,
              **measure(uri, str(facts["experiment_id"]), args.repeats)}  # fmt: skip
    args.out.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
