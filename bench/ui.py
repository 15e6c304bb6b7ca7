"""Web UI speed with 100,000 runs in one experiment, measured in headless Chromium (issue #5).

    .venv/bin/python bench/ui.py [--runs 100000] [--history 100000] [--repeats 5]

Fills a fresh SQLite database through Heron's own store (bulk inserts in one transaction:
each run with a name tag, a team tag, two params and two metrics; one run also gets a
100,000-step metric history), starts the real `heron server` on it and opens the pages in
Debian's chromium through Playwright. For each view it reports the median over the repeats of
the browser's own timings (Navigation Timing: responseEnd, domContentLoaded; Paint Timing:
first-contentful-paint), all in ms from the start of the navigation:

- the experiment page (first paint = the first page of the runs table, server-rendered),
- sorting by a metric (clicking its column header), and the next page after that,
- a filter on a metric,
- the run's charts page with the 100,000-point history (until the chart is drawn from the
  sampled history).

Writes bench-results/ui.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from artifacts import (  # the server, as bench/artifacts.py starts it
    RESULTS,
    ROOT,
    start_heron,
    stop_group,
)

sys.path.insert(0, str(ROOT))
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS  # the tests' browser settings

BATCH = 20_000


def fill(directory: Path, runs: int, history: int) -> tuple[str, str]:
    """Creates the experiment and its runs; returns (experiment id, id of the long run)."""
    from heron.entities import Metric
    from heron.store.sql import open_sql_stores
    from heron.store.sql.run_writes import insert_metrics

    stores = open_sql_stores(
        f"sqlite:///{directory}/heron.db", default_artifact_root="mlflow-artifacts:"
    )
    try:
        experiment_id = stores.experiments.create_experiment(
            "ui-bench", artifact_location=None, tags={}
        )
        now = int(time.time() * 1000) - runs * 1000
        ids = [uuid.uuid4().hex for _ in range(runs)]
        for start in range(0, runs, BATCH):
            chunk = list(enumerate(ids[start : start + BATCH], start))
            stores.database.write(
                lambda conn, chunk=chunk: _insert(conn, experiment_id, now, chunk)
            )
        long_run = ids[-1]
        curve = [
            Metric(key="curve", value=1.0 / (1 + s / 1000), timestamp=now + s, step=s)
            for s in range(history)
        ]
        stores.database.write(
            lambda conn: insert_metrics(conn, long_run, int(experiment_id), curve)
        )
        return experiment_id, long_run
    finally:
        stores.close()


# What run i holds, in both benchmarks (bench/ui_mlflow.py fills MLflow with the same runs).
def tags_of(i: int) -> tuple[tuple[str, str], ...]:
    return (("mlflow.runName", f"run-{i:06d}"), ("team", f"t{i % 7}"))


def params_of(i: int) -> tuple[tuple[str, str], ...]:
    return (("lr", str(10 ** -(i % 5))), ("depth", str(i % 12)))


def metrics_of(i: int) -> tuple[tuple[str, float], ...]:
    return (("acc", (i * 7919 % 100_003) / 100_003), ("loss", 1 / (1 + i)))


def _insert(conn: Any, experiment_id: str, now: int, chunk: list[tuple[int, str]]) -> None:
    from heron.entities import Metric
    from heron.store.sql import tables
    from heron.store.sql.database import run_many
    from heron.store.sql.run_writes import insert_metrics

    run_many(conn, tables.runs.insert(), [
        {"run_uuid": rid, "experiment_id": int(experiment_id), "name": f"run-{i:06d}",
         "user_id": "bench", "status": "FINISHED", "start_time": now + i * 1000,
         "end_time": now + i * 1000 + 500, "lifecycle_stage": "active", "deleted_time": None,
         "artifact_uri": f"mlflow-artifacts:/{experiment_id}/{rid}/artifacts"}
        for i, rid in chunk
    ])  # fmt: skip
    run_many(conn, tables.tags.insert(), [
        {"run_uuid": rid, "key": key, "value": value}
        for i, rid in chunk
        for key, value in tags_of(i)
    ])  # fmt: skip
    run_many(conn, tables.params.insert(), [
        {"run_uuid": rid, "key": key, "value": value}
        for i, rid in chunk
        for key, value in params_of(i)
    ])  # fmt: skip
    # Metrics through the store's own write path, which keeps each run's latest values (and
    # whatever columns latest_metrics has) as logging them through the API would.
    for i, rid in chunk:
        points = [Metric(key=key, value=value, timestamp=now + i * 1000, step=0)
                  for key, value in metrics_of(i)]  # fmt: skip
        insert_metrics(conn, rid, int(experiment_id), points)


FIRST_PAINT = "() => performance.getEntriesByName('first-contentful-paint').length > 0"
TIMINGS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  return {response_end: nav.responseEnd, dom_content_loaded: nav.domContentLoadedEventEnd,
          first_contentful_paint: paint ? paint.startTime : null,
          rows: document.querySelectorAll("#runs-table tbody tr").length};
}"""


def timings(page: Any) -> dict[str, float]:
    page.wait_for_function(
        "() => performance.getEntriesByName('first-contentful-paint').length > 0"
    )
    return dict(page.evaluate(TIMINGS))


def measure(browser: Any, url: str, experiment_id: str, long_run: str, repeats: int) -> Any:
    views: dict[str, list[dict[str, float]]] = {}

    def record(name: str, values: dict[str, float]) -> None:
        views.setdefault(name, []).append(values)

    for _ in range(repeats):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(f"{url}/experiments/{experiment_id}")
        record("experiment page (first page of the runs table)", timings(page))
        page.locator("th[data-column='metrics.acc'] a").click()
        page.wait_for_url("**sort=metrics.acc**")
        record("sort by a metric (click its header)", timings(page))
        page.locator("#next-page").click()
        page.wait_for_url("**page=**")
        record("next page of the sorted table", timings(page))
        page.goto(f"{url}/experiments/{experiment_id}?filter=metrics.acc+%3E+0.999")
        record("filter on a metric", timings(page))
        started = time.perf_counter()
        page.goto(f"{url}/runs/{long_run}/charts")
        page.locator(".chart[data-metric='curve'][data-ready='1']").wait_for(timeout=60_000)
        drawn = (time.perf_counter() - started) * 1000
        points = int(page.locator(".chart[data-metric='curve']").get_attribute("data-points"))
        record("chart of a 100,000-point history", {"drawn": drawn, "points": points})
        context.close()
    return {
        name: {key: statistics.median(v[key] for v in values if v[key] is not None)
               for key in values[0] if any(v[key] is not None for v in values)}
        for name, values in views.items()
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="heron-ui-bench-") as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        experiment_id, long_run = fill(directory, args.runs, args.history)
        print(f"filled {args.runs:,} runs in {time.perf_counter() - started:.1f} s", flush=True)
        url, group = start_heron(directory)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    results = measure(browser, url, experiment_id, long_run, args.repeats)
                finally:
                    browser.close()
        finally:
            stop_group(group)
    for name, values in results.items():
        shown = ", ".join(f"{k} {v:,.0f}" for k, v in values.items())
        print(f"{name}: {shown}")
    out = RESULTS
    out.mkdir(parents=True, exist_ok=True)
    report = {"runs": args.runs, "history": args.history, "repeats": args.repeats,
              "median_ms": results}  # fmt: skip
    (out / "ui.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
