"""The GenAI views at a million traces (issue #23): first paint and charts drawn in Chromium,
beside MLflow 3.17's overview on the same traces.

    .venv/bin/python bench/genai_overview.py [--traces 1000000] [--days 30] [--repeats 5]
        [--reuse DIR] [--postgres URI] [--with-mlflow] [--mlflow-repeats 1] [--timeout-s 300]

Fills one experiment with `--traces` traces of an agent spread over the last `--days` days
(bench/genai_data.py: sessions of five turns, a chat model call with tokens and cost, up to
two tool calls, 3 % failures, feedback and judge scores on about half; three app versions)
through Heron's own store (SqlTraceStore.log_spans in batches of 10,000, the assessment rows
in bulk), starts the real `heron server` on it and opens each view in Debian's chromium,
`--repeats` times with a fresh browser context. For each view it reports the median of:

- response_end: the server's answer fully received (Navigation Timing),
- first_paint: first contentful paint (Paint Timing),
- charts_drawn: the overview's charts drawn from the numbers in the page (overview.js
  records performance.now() when the last one is drawn), for the overview views,
- server_cpu: the CPU time the server's processes used for the view (from /proc), steadier
  than wall time on a machine shared with other work; with `--postgres`, database_cpu: the
  CPU time of the database's processes too (a local cluster),

in ms (times from the start of the navigation), and the page's own count of traces. It also
times the overview service alone, in process, for each window, and notes the share of a core
a busy loop gets before and after (1.0 on an idle machine), to read the figures beside.

`--with-mlflow` fills MLflow 3.17's own tables with the same traces (bench/genai_mlflow.py,
bulk inserts after its server made the schema) and times its overview's three tabs (usage,
quality, tool calls) until every one of their data requests was answered.

The databases live in DIR (a temporary directory, or `--reuse DIR`, which keeps them: a
later run with the same DIR skips the fills). `--postgres URI` fills and serves a PostgreSQL
database instead (a fresh, empty one; DIR then keeps what the fill made, and a later run with
the same DIR and URI serves it again without filling). Writes bench-results/genai_overview.json
(or `--out`) after each step.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from artifacts import RESULTS, ROOT, free_port, stop_group, wait_healthy
from genai_data import fill, traffic
from genai_mlflow import fill_and_measure_mlflow
from genai_rollups_build import database_cpu_s

sys.path.insert(0, str(ROOT))
from tests.ui.conftest import CHROMIUM, CHROMIUM_ARGS  # the tests' browser settings

MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000
CHUNK = 100_000  # traces generated at a time (memory stays flat)
VIEWS = {
    "overview, last 7 days (the default view)": "overview",
    "overview, last 7 days by day (MLflow's default)": "overview?grain=1d",
    "overview, last hour": "overview?range=1h",
    "overview, last 24 hours": "overview?range=24h",
    "overview, last 30 days (every trace)": "overview?range=30d",
    "overview, last 7 days, one user": "overview?user=user-1",
    "overview, last 7 days, one app version (the newest)": "overview?version={version}",
    "overview, last 30 days, one app version (the newest)": "overview?range=30d&version={version}",
    "overview, last 7 days, one session": "overview?session={session}",
    "overview, last 7 days, staging (10 %)": "overview?env=staging",
    "overview, last 7 days, tag team=search (every trace)": "overview?tag=team%3Dsearch",
    "overview, last 7 days, span type TOOL (2 in 3)": "overview?span_type=TOOL",
    "sessions, last 7 days": "sessions",
    "one session (five turns)": "sessions/{session}",
    "versions, last 7 days": "versions",
}
TIMINGS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const paint = performance.getEntriesByName("first-contentful-paint")[0];
  const charts = document.getElementById("overview-charts");
  const total = document.getElementById("total-traces");
  return {response_end: nav.responseEnd, first_paint: paint ? paint.startTime : null,
          charts_drawn: charts && charts.dataset.drawnMs ? Number(charts.dataset.drawnMs) : null,
          traces: total ? Number(total.textContent) : null};
}"""


def fill_database(uri: str, count: int, days: int) -> tuple[str, float, int, list[str]]:
    """Creates the experiment, its three app versions and its traffic; returns (experiment
    id, seconds, now_ms, the versions' model ids)."""
    from heron.store.sql import open_sql_stores

    # The fill alone skips fsync (a benchmark's data, made again on a crash) and gives its
    # connection a 2 GB page cache: random trace ids make every index insert a random write.
    stores = open_sql_stores(
        uri, default_artifact_root="mlflow-artifacts:", sqlite_synchronous="OFF"
    )
    try:
        if stores.database.dialect == "sqlite":
            stores.database.write(lambda conn: conn.exec_driver_sql("PRAGMA cache_size=-2000000"))
        experiment_id = stores.experiments.create_experiment(
            "genai-bench", artifact_location=None, tags={}
        )
        now = int(time.time() * 1000)
        versions = tuple(
            stores.logged_models.create_logged_model(
                experiment_id=experiment_id, name=f"agent-v{v}", source_run_id=None,
                model_type="agent", tags={}, params={},
            ).model_id
            for v in (1, 2, 3)
        )  # fmt: skip
        started = time.perf_counter()
        turns = traffic(count, now - days * DAY, now, versions=versions)
        done = 0
        while chunk := list(itertools.islice(turns, CHUNK)):
            done += fill(stores, experiment_id, iter(chunk), batch=10_000)
            print(f"  {done:,} traces, {time.perf_counter() - started:.0f} s", flush=True)
        return experiment_id, time.perf_counter() - started, now, list(versions)
    finally:
        stores.close()


def start_server(uri: str, directory: Path) -> tuple[str, int]:
    """`heron server` on `uri`, in its own process group; returns its URL and the group id."""
    port = free_port()
    log = (directory / "server.log").open("wb")
    proc = subprocess.Popen(
        [str(ROOT / ".venv/bin/heron"), "server", "--host", "127.0.0.1", "--port", str(port),
         "--backend-store-uri", uri, "--artifacts-destination", str(directory / "artifacts")],
        stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    return url, proc.pid


# (window, grain, filter) the store's overview is timed for, with rollups and raw
STORE_CASES = {
    "30 days by 6 hours": (30 * DAY, 6 * HOUR, ""),
    "7 days by hour (the default)": (7 * DAY, HOUR, ""),
    "7 days by day": (7 * DAY, DAY, ""),
    "30 days by hour": (30 * DAY, HOUR, ""),
    "24 hours by 15 minutes": (DAY, 15 * MINUTE, ""),
    "7 days, one app version": (7 * DAY, HOUR, "metadata.`mlflow.modelId` = '{version}'"),
    "30 days, one app version": (30 * DAY, 6 * HOUR, "metadata.`mlflow.modelId` = '{version}'"),
    "7 days, one user": (7 * DAY, HOUR, "metadata.`mlflow.trace.user` = 'user-1'"),
    "30 days, one user": (30 * DAY, 6 * HOUR, "metadata.`mlflow.trace.user` = 'user-1'"),
    "7 days, one session": (7 * DAY, HOUR, "metadata.`mlflow.trace.session` = '{session}'"),
    "7 days, staging": (7 * DAY, HOUR, "metadata.`mlflow.source.type` = 'staging'"),
    "7 days, tag team=search": (7 * DAY, HOUR, "tags.team = 'search'"),
    "7 days, span type TOOL": (7 * DAY, HOUR, "span.type = 'TOOL'"),
}


def in_process(uri: str, facts: dict[str, Any], repeats: int) -> dict[str, Any]:
    """The store's overview alone for each case, with the hourly rollups (built first, timed
    apart) and from the raw rows: median CPU and wall ms of this process."""
    from heron.search.traces import parse_trace_filter
    from heron.services.trace_analytics import buckets
    from heron.store.sql import open_sql_stores
    from heron.store.sql.trace_overview import overview
    from heron.store.trace_analytics import Window

    stores = open_sql_stores(uri, default_artifact_root="mlflow-artifacts:")
    now = int(time.time() * 1000)
    names = {"version": facts["versions"][-1], "session": _session(facts)}
    found: dict[str, Any] = {}
    try:
        for case, (span, grain, text) in STORE_CASES.items():
            window = Window(
                experiment_id=facts["experiment_id"],
                start_ms=now - span,
                end_ms=now + 1,
                filter=parse_trace_filter(text.format(**names)),
            )
            cut = buckets(window.start_ms, window.end_ms, grain)
            for mode in ("rollups", "raw"):
                run = functools.partial(
                    overview, stores.database, window, cut, rollups=mode == "rollups"
                )
                if mode == "rollups" and not found:  # the first run builds the missing hours
                    found["rollups built (first overview), cpu/wall ms"] = _timed(run)
                times = [_timed(run) for _ in range(repeats)]
                found[f"{case}, {mode}"] = {
                    "cpu_ms": statistics.median(t[0] for t in times),
                    "wall_ms": statistics.median(t[1] for t in times),
                }
            print(case, found[f"{case}, rollups"], found[f"{case}, raw"], flush=True)
    finally:
        stores.close()
    return found  # fmt: skip


def _timed(fn: Any) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    fn()
    return (time.process_time() - cpu) * 1000, (time.perf_counter() - wall) * 1000


def _session(facts: dict[str, Any]) -> str:
    """The newest session (five turns, in the last minutes of the traffic)."""
    return f"session-{(facts['traces'] - 1) // 5:07d}"


def cpu_ms(pgid: int) -> float:
    """CPU time (user + system) used so far by a process group, in ms (Linux /proc)."""
    ticks = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks * 1000 / os.sysconf("SC_CLK_TCK")


def cpu_share() -> float:
    """The share of one core this process gets for a busy loop now: how loaded the machine
    is (1.0 on an idle one), to read the timings beside."""
    began, cpu = time.perf_counter(), time.process_time()
    total = 0
    for i in range(3_000_000):
        total += i
    return (time.process_time() - cpu) / (time.perf_counter() - began)


def measure(
    browser: Any,
    url: str,
    pgid: int,
    paths: dict[str, str],
    repeats: int,
    database: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """Each view's timings in Chromium, and the server's CPU time for it."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in paths}
    for _ in range(repeats):
        for name, path in paths.items():
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            before, db = cpu_ms(pgid), database() if database else 0.0
            page.goto(f"{url}/{path}")
            page.wait_for_function(
                "() => performance.getEntriesByName('first-contentful-paint').length > 0"
            )
            if "overview" in path:
                page.wait_for_function(
                    "() => document.getElementById('overview-charts')?.dataset.drawnMs"
                    " || !document.getElementById('overview-data')",
                    timeout=120_000,
                )
            found = dict(page.evaluate(TIMINGS))
            found["server_cpu"] = cpu_ms(pgid) - before
            if database:
                found["database_cpu"] = (database() - db) * 1000
            runs[name].append(found)
            context.close()
    return {
        name: {key: statistics.median(r[key] for r in found if r[key] is not None)
               for key in found[0] if any(r[key] is not None for r in found)}
        for name, found in runs.items()
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--traces", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--reuse", type=Path, help="keep the databases in this directory")
    parser.add_argument("--postgres", help="an empty PostgreSQL database to fill and serve")
    parser.add_argument("--out", type=Path, default=RESULTS / "genai_overview.json")
    parser.add_argument(
        "--with-mlflow", action="store_true", help="MLflow's UI on the same traffic"
    )
    parser.add_argument("--mlflow-repeats", type=int, default=1)
    parser.add_argument("--timeout-s", type=float, default=300, help="per MLflow view")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="heron-genai-bench-") as tmp:
        directory = args.reuse or Path(tmp)
        directory.mkdir(parents=True, exist_ok=True)
        run(args, directory)


def run(args: argparse.Namespace, directory: Path) -> None:
    """Fills (unless DIR holds the data), measures Heron, then MLflow; the report is written
    after each step, so a step that fails leaves the ones before it."""
    from playwright.sync_api import sync_playwright

    uri = args.postgres or f"sqlite:///{directory}/heron.db"
    state = directory / "bench-state.json"
    if not state.exists() or json.loads(state.read_text()).get("postgres") != args.postgres:
        print(f"filling {args.traces:,} traces over {args.days} days", flush=True)
        experiment_id, seconds, now, versions = fill_database(uri, args.traces, args.days)
        facts = {"experiment_id": experiment_id, "fill_s": seconds, "filled_at_ms": now,
                 "traces": args.traces, "days": args.days, "versions": versions,
                 "postgres": args.postgres}  # fmt: skip
        state.write_text(json.dumps(facts))
    facts = json.loads(state.read_text())
    print(f"filled in {facts['fill_s']:.0f} s; experiment {facts['experiment_id']}", flush=True)
    report: dict[str, Any] = {
        **facts, "database": "postgresql" if args.postgres else "sqlite",
        "repeats": args.repeats, "cpu_share_before": cpu_share(),
        "load_average_before": os.getloadavg(),
    }  # fmt: skip
    report["store_overview"] = in_process(uri, facts, args.repeats)
    _write(args.out, report)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            report["median_ms"] = _heron_views(browser, uri, directory, facts, args.repeats)
            report["cpu_share_after"] = cpu_share()
            _write(args.out, report)
            if args.with_mlflow:
                report["mlflow_median_ms"] = fill_and_measure_mlflow(
                    directory, facts, browser, args.mlflow_repeats, args.timeout_s
                )
                state.write_text(json.dumps(facts))  # keeps MLflow's filled database too
                _write(args.out, report)
        finally:
            browser.close()


def _heron_views(
    browser: Any, uri: str, directory: Path, facts: dict[str, Any], repeats: int
) -> dict[str, Any]:
    url, pgid = start_server(uri, directory)
    try:
        experiment_id = facts["experiment_id"]
        paths = {
            name: f"experiments/{experiment_id}/"
            + path.format(version=facts["versions"][-1], session=_session(facts))
            for name, path in VIEWS.items()
        }
        return measure(browser, url, pgid, paths, repeats, _database_cpu(uri))
    finally:
        stop_group(pgid)


def _database_cpu(uri: str) -> Callable[[], float] | None:
    """The CPU seconds of a local PostgreSQL cluster's processes so far; None on SQLite."""
    from heron.store.sql import open_sql_stores

    if not uri.startswith("postgresql"):
        return None
    stores = open_sql_stores(uri, default_artifact_root="mlflow-artifacts:")
    try:
        return database_cpu_s(stores.database)
    finally:
        stores.close()


def _write(out: Path, report: dict[str, Any]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k.endswith("ms")}, indent=1), flush=True)


if __name__ == "__main__":
    main()
