"""MLflow's web UI beside Heron's on the same runs, measured the same way in headless Chromium.

    .venv/bin/python bench/ui_mlflow.py [--runs 100000] [--repeats 5]

Starts the reference MLflow server (../shared/bench/start_mlflow.sh with .venv-conformance's
mlflow) and `heron server`, each on a fresh SQLite database holding one experiment with the
same runs (bench/ui.py's: a name and a team tag, two params, two metrics each). MLflow's
REST API would take hours to log 100,000 runs, so its database is filled directly with bulk
inserts into its own tables (experiments, runs, tags, params, metrics, latest_metrics; the
table and column names are read from the schema MLflow created), after its server created
the schema and the experiment. Nothing here imports mlflow.

For each UI and view it reports the median over the repeats of the time until the runs
table shows the expected run in its first row (a requestAnimationFrame poll, so about the
frame that paints it), in ms: from the start of the navigation for the experiment page (with
an empty browser cache, and again with it warm), from the click that sorts by a metric until
the run with the highest value is first (Heron: the column header; MLflow: its Sort menu,
where every metric is listed), and from the Enter in the search box until the newest run
passing `metrics.acc > 0.999` is first. Heron's sort and filter load a new page, so theirs
run from that navigation's start (which the click begins). A view not shown within
--timeout-s is reported as such. Writes bench-results/ui_mlflow_<runs>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from artifacts import RESULTS, ROOT, start_heron, start_mlflow, stop_group
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ui import fill, metrics_of, params_of, tags_of

sys.path.insert(0, str(ROOT))
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS  # the tests' browser settings

BATCH = 20_000
FILTER = "metrics.acc > 0.999"

# Installed in every document before its own scripts: each animation frame (so the frame that
# paints it) notes when the text of the table's first run name changes, and the last click or
# Enter is noted too, so a time can be taken from the user's action to what it shows.
WATCH = """(() => {
  const bench = window.__bench = {changes: [], input: null};
  const selector = %s;
  addEventListener("click", (e) => { bench.input = e.timeStamp; }, true);
  addEventListener("keydown", (e) => { if (e.key === "Enter") bench.input = e.timeStamp; }, true);
  let last = null;
  const tick = () => {
    const cell = document.querySelector(selector);
    const text = cell ? cell.textContent.trim() : null;
    if (text !== last) { last = text; bench.changes.push({t: performance.now(), text}); }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
})();"""


@dataclass(frozen=True)
class UI:
    """How to drive one UI: its experiment page, its first run name cell, sort and filter."""

    name: str
    page: str
    first_name: str  # CSS selector of the first row's run name
    sort_by_acc: Callable[[Any], None]
    search: Callable[[Any, str], None]


def heron_ui(url: str, experiment_id: str) -> UI:
    def sort(page: Any) -> None:  # click the metric's column header (one click: descending)
        page.locator("th[data-column='metrics.acc'] a").click()

    def search(page: Any, text: str) -> None:
        page.locator("#filter").fill(text)
        page.locator("#filter").press("Enter")

    first = "#runs-table tbody tr:first-child .run-link"
    return UI("heron", f"{url}/experiments/{experiment_id}", first, sort, search)


def mlflow_ui(url: str, experiment_id: str) -> UI:
    def sort(page: Any) -> None:  # the Sort menu lists every metric; acc, descending
        page.get_by_role("button", name="Sort: Created").click()
        page.get_by_test_id("sort-select-acc").click()

    def search(page: Any, text: str) -> None:
        box = page.get_by_placeholder("metrics.rmse < 1", exact=False)
        box.fill(text)
        box.press("Enter")

    first = ".ag-pinned-left-cols-container .ag-row[row-index='0'] a[href*='/runs/']"
    return UI("mlflow", f"{url}/#/experiments/{experiment_id}/runs", first, sort, search)


def fill_mlflow(directory: Path, url: str, runs: int) -> str:
    """The experiment through MLflow's API, its runs by bulk inserts into MLflow's tables."""
    request = urllib.request.Request(  # noqa: S310 - the MLflow server this script started
        f"{url}/api/2.0/mlflow/experiments/create",
        data=json.dumps({"name": "ui-bench"}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as resp:  # noqa: S310
        experiment_id = str(json.load(resp)["experiment_id"])
    eid = int(experiment_id)
    now = int(time.time() * 1000) - runs * 1000
    db = sqlite3.connect(directory / "mlflow.db")
    try:
        with db:
            for start in range(0, runs, BATCH):
                chunk = [(i, uuid.uuid4().hex) for i in range(start, min(runs, start + BATCH))]
                _insert_mlflow(db, eid, now, chunk)
    finally:
        db.close()
    return experiment_id


def _insert_mlflow(
    db: sqlite3.Connection, eid: int, now: int, chunk: list[tuple[int, str]]
) -> None:
    db.executemany(
        "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id, "
        "status, start_time, end_time, source_version, lifecycle_stage, artifact_uri, "
        "experiment_id, deleted_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(rid, f"run-{i:06d}", "LOCAL", "", "", "bench", "FINISHED", now + i * 1000,
          now + i * 1000 + 500, "", "active", f"mlflow-artifacts:/{eid}/{rid}/artifacts", eid,
          None)
         for i, rid in chunk],
    )  # fmt: skip
    db.executemany(
        "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
        [(key, value, rid) for i, rid in chunk for key, value in tags_of(i)],
    )
    db.executemany(
        "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
        [(key, value, rid) for i, rid in chunk for key, value in params_of(i)],
    )
    points = [
        (key, value, now + i * 1000, rid, 0, 0) for i, rid in chunk for key, value in metrics_of(i)
    ]
    for table in ("metrics", "latest_metrics"):
        db.executemany(
            f"INSERT INTO {table} (key, value, timestamp, run_uuid, step, is_nan) "  # noqa: S608
            "VALUES (?, ?, ?, ?, ?, ?)",
            points,
        )


def expected_names(runs: int) -> tuple[str, str, str]:
    """The first row's run name: newest first, sorted by acc (descending), and filtered."""
    accs = [metrics_of(i)[0][1] for i in range(runs)]
    best = max(range(runs), key=lambda i: (accs[i], i))
    passing = max(i for i in range(runs) if accs[i] > 0.999)
    return f"run-{runs - 1:06d}", f"run-{best:06d}", f"run-{passing:06d}"


def shown_ms(page: Any, name: str, timeout_s: float) -> float | None:
    """When the first row came to show run `name`: ms from the user's last click or Enter in
    this document, or from the start of the navigation when the action loaded a new page.
    None when it did not within `timeout_s`."""
    try:
        page.wait_for_function(
            "(name) => window.__bench && window.__bench.changes.some((c) => c.text === name)",
            arg=name,
            timeout=timeout_s * 1000,
        )
    except PlaywrightTimeout:
        return None
    t, since = page.evaluate(
        "(name) => { const b = window.__bench;"
        " const c = b.changes.find((c) => c.text === name);"
        " return [c.t, b.input]; }",
        name,
    )
    return float(t - since) if since is not None and since < t else float(t)


def measure(
    browser: Any, ui: UI, names: tuple[str, str, str], repeats: int, timeout_s: float
) -> dict[str, Any]:
    """Per repeat, two fresh browser contexts (empty caches): in the first, the experiment
    page cold, again with the browser's cache warm, then the sort; in the second, the page
    cold again, then the filter (a sort the UI remembers must not change what it shows)."""
    newest, best, passing = names
    views: dict[str, list[float | None]] = {}

    def record(view: str, ms: float | None) -> None:
        views.setdefault(view, []).append(ms)

    for _ in range(repeats):
        for action in ("sort", "filter"):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            context.add_init_script(WATCH % json.dumps(ui.first_name))
            page = context.new_page()
            page.goto(ui.page)
            record("experiment page, cold cache", shown_ms(page, newest, timeout_s))
            if action == "sort":
                page.goto("about:blank")
                page.goto(ui.page)
                record("experiment page, warm cache", shown_ms(page, newest, timeout_s))
                ui.sort_by_acc(page)
                record("sort by a metric", shown_ms(page, best, timeout_s))
            else:
                ui.search(page, FILTER)
                record(f"filter {FILTER}", shown_ms(page, passing, timeout_s))
            context.close()
    return {view: _summary(v, timeout_s) for view, v in views.items()}


def _summary(values: list[float | None], timeout_s: float) -> dict[str, Any]:
    done = [v for v in values if v is not None]
    return {
        "median_ms": statistics.median(done) if len(done) == len(values) else None,
        "all_ms": values,
        "note": "" if len(done) == len(values) else f"not shown within {timeout_s:.0f} s",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--timeout-s", type=float, default=300, help="per view, then given up")
    parser.add_argument(
        "--only",
        choices=["heron", "mlflow"],
        help="one UI (default: both); with heron, MLflow is not started at all",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    names = expected_names(args.runs)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="heron-ui-mlflow-") as tmp:
        heron_dir, mlflow_dir = Path(tmp, "heron"), Path(tmp, "mlflow")
        heron_dir.mkdir()
        started = time.perf_counter()
        heron_experiment, _ = fill(heron_dir, args.runs, 1)
        print(f"heron: {args.runs:,} runs in {time.perf_counter() - started:.1f} s", flush=True)
        heron_url, heron_group = start_heron(heron_dir)
        uis = [heron_ui(heron_url, heron_experiment)]
        mlflow_pid: int | None = None
        try:
            if args.only != "heron":
                mlflow_url, mlflow_pid = start_mlflow(mlflow_dir)
                started = time.perf_counter()
                mlflow_experiment = fill_mlflow(mlflow_dir, mlflow_url, args.runs)
                seconds = time.perf_counter() - started
                print(f"mlflow: {args.runs:,} runs in {seconds:.1f} s", flush=True)
                uis.append(mlflow_ui(mlflow_url, mlflow_experiment))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                try:
                    for ui in uis:
                        if args.only not in (None, ui.name):
                            continue
                        found = measure(browser, ui, names, args.repeats, args.timeout_s)
                        results[ui.name] = found
                        for view, value in found.items():
                            shown = value["note"] or f"{value['median_ms']:,.0f} ms"
                            print(f"{ui.name}: {view}: {shown}", flush=True)
                finally:
                    browser.close()
        finally:
            stop_group(heron_group)
            if mlflow_pid is not None:
                _stop(mlflow_pid)
    out = RESULTS
    out.mkdir(parents=True, exist_ok=True)
    report = {"runs": args.runs, "repeats": args.repeats, "results": results}
    (out / f"ui_mlflow_{args.runs}.json").write_text(json.dumps(report, indent=2))


def _stop(group: int) -> None:
    """Stops a server's whole process group (MLflow's has job runners), waiting for it."""
    for sig, wait_s in ((signal.SIGTERM, 30.0), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(group, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)


if __name__ == "__main__":
    main()
