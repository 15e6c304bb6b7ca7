"""Tracing speed, Heron beside MLflow 3.17.2 in one run (issue #7's targets):

    .venv/bin/python bench/traces_search.py [--traces 10000] [--calls 500] [--repeats 15]
                                            [--rounds 3] [--reuse DIR] [--only search]

Starts `heron server` (.venv) and `mlflow server` (../shared/bench/start_mlflow.sh with
.venv-conformance's mlflow) on fresh SQLite databases, then, each SDK in its own interpreter:

(a) the traced call's own overhead: a function with 10 nested traced spans, exporter on,
    Heron's SDK to Heron and the mlflow client to MLflow (p50 of `--calls` calls after a
    warm-up; the export happens off the call in both).
(b) search_traces over `--traces` traces (10 spans each, sent to both servers as the same OTLP
    protobuf batches, the way both SDKs export), with the filter `execution_time_ms > 49`
    (half of them) and a page of 100: p50 of `--repeats` calls with spans and without,
    `heron.search_traces` vs `mlflow.search_traces`, both returning Trace objects with their
    spans loaded. Both servers are loaded first; then `--rounds` rounds each search Heron and
    MLflow back to back, so both are measured under the same load from other jobs on the
    machine (the minutes of loading MLflow no longer sit between the two); the figures are
    the medians of the rounds' p50s.

With `--reuse DIR` the two servers keep their databases in DIR and a later run with the same
DIR searches the traces loaded the first time (loading MLflow takes minutes); `--only search`
skips (a).

Prints the figures and the ratios, writes bench-results/traces_search.json."""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from artifacts import (
    HERON_ONLY_HELP,
    HERON_PY,
    MLFLOW_PY,
    RESULTS,
    start_heron,
    start_mlflow,
    stop_group,
)

from heron.client.http.traces import otlp_body
from heron.entities.trace import Span, SpanStatusCode

FILTER = "execution_time_ms > 49"

# Run by each SDK's interpreter: argv = kind, url, mode, experiment id or "-", count.
WORKER = r"""
import json, statistics, sys, time, uuid
kind, url, mode, experiment_id, count = sys.argv[1:6]
count = int(count)
if kind == "heron":
    import heron as sdk
    from heron import tracing
    trace, flush = tracing.trace, tracing.flush
else:
    import mlflow as sdk
    trace, flush = sdk.trace, sdk.flush_trace_async_logging
sdk.set_tracking_uri(url)
out = {}
if mode == "overhead":
    sdk.set_experiment("overhead-" + uuid.uuid4().hex[:8])
    def make(depth):
        if depth == 0:
            return trace(lambda x: x + 1, name="leaf")
        inner = make(depth - 1)
        return trace(lambda x: inner(x) + 1, name=f"level_{depth}")
    call = make(9)  # 10 nested spans
    for i in range(50):
        call(i)
    flush()
    times = []
    for i in range(count):
        t0 = time.perf_counter()
        call(i)
        times.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    flush()
    out = {"p50_ms": statistics.median(times) * 1e3,
           "mean_ms": statistics.fmean(times) * 1e3, "flush_s": time.perf_counter() - t0}
else:
    def search(spans):
        if kind == "heron":
            return sdk.search_traces([experiment_id], filter_string=FILTER, max_results=100,
                                     include_spans=spans)
        return sdk.search_traces(locations=[experiment_id], filter_string=FILTER,
                                 max_results=100, include_spans=spans, return_type="list")
    FILTER = sys.argv[6]
    for spans in (False, True):
        found = search(spans)
        times = []
        for _ in range(count):
            t0 = time.perf_counter()
            search(spans)
            times.append(time.perf_counter() - t0)
        out["with_spans" if spans else "without_spans"] = {
            "p50_ms": statistics.median(times) * 1e3, "found": len(found),
            "spans_in_first": len(found[0].data.spans if kind == "mlflow" else found[0].spans)
                              if found else 0,
        }
print("RESULT", json.dumps(out))
"""


def worker(kind: str, url: str, mode: str, experiment_id: str, count: int) -> dict[str, Any]:
    python = HERON_PY if kind == "heron" else MLFLOW_PY
    env = {**os.environ, "MLFLOW_TRACKING_URI": url}
    proc = subprocess.run(
        [str(python), "-c", WORKER, kind, url, mode, experiment_id, str(count), FILTER],
        capture_output=True, text=True, env=env, timeout=3600,
    )  # fmt: skip
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[7:]))
    raise SystemExit(f"{kind} {mode} worker failed:\n{proc.stdout}\n{proc.stderr}")


def _spans(n: int, base_ns: int) -> list[Span]:
    """Trace n: a root lasting n % 100 ms (half pass the filter) and 9 children."""
    trace_id = "tr-" + uuid.uuid4().hex
    root_id = uuid.uuid4().hex[:16]
    start = base_ns + n * 1_000_000_000
    end = start + (n % 100) * 1_000_000 + 500_000

    def span(span_id: str, parent: str | None, name: str, span_type: str) -> Span:
        return Span(
            trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=name,
            span_type=span_type, status=SpanStatusCode.OK, start_time_ns=start, end_time_ns=end,
            inputs={"question": f"q{n}", "k": 3}, outputs={"answer": f"a{n}" * 8},
            attributes={"bench.n": n},
        )  # fmt: skip

    return [span(root_id, None, "root", "CHAIN")] + [
        span(uuid.uuid4().hex[:16], root_id, f"child_{i}", "TOOL") for i in range(9)
    ]


def load(url: str, traces: int) -> str:
    """Creates an experiment and sends it `traces` traces over OTLP, 100 per request."""
    with httpx.Client(base_url=url, timeout=600) as client:
        name = f"search-bench-{uuid.uuid4().hex[:8]}"
        answer = client.post("/api/2.0/mlflow/experiments/create", json={"name": name})
        answer.raise_for_status()
        experiment_id = str(answer.json()["experiment_id"])
        base_ns = (int(time.time()) - traces - 3600) * 1_000_000_000
        for start in range(0, traces, 100):
            spans = [s for n in range(start, min(start + 100, traces)) for s in _spans(n, base_ns)]
            reply = client.post(
                "/v1/traces", content=otlp_body(spans),
                headers={"Content-Type": "application/x-protobuf",
                         "x-mlflow-experiment-id": experiment_id},
            )  # fmt: skip
            reply.raise_for_status()
    return experiment_id


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--traces", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--reuse", type=Path, help="keep the databases here, load them once")
    parser.add_argument("--only", choices=["all", "search"], default="all")
    parser.add_argument("--heron-only", action="store_true", help=HERON_ONLY_HELP)
    args = parser.parse_args()
    results: dict[str, Any] = {"traces": args.traces, "filter": FILTER}
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = args.reuse or Path(scratch_dir)
        (scratch / "heron").mkdir(parents=True, exist_ok=True)
        heron_url, heron_group = start_heron(scratch / "heron")
        servers = [("heron", heron_url)]
        mlflow_pid: int | None = None
        if not args.heron_only:
            mlflow_url, mlflow_pid = start_mlflow(scratch / "mlflow")
            servers.append(("mlflow", mlflow_url))
        try:
            if args.only == "all":
                for kind, url in servers:
                    results[f"{kind}_overhead"] = worker(kind, url, "overhead", "-", args.calls)
                    print(kind, "overhead", results[f"{kind}_overhead"], flush=True)
            experiments = {}
            for kind, url in servers:
                loaded = scratch / kind / f"loaded-{args.traces}"
                if loaded.exists():
                    experiments[kind] = loaded.read_text()
                else:
                    t0 = time.perf_counter()
                    experiments[kind] = load(url, args.traces)
                    results[f"{kind}_load_s"] = time.perf_counter() - t0
                    if args.reuse:
                        loaded.write_text(experiments[kind])
            rounds: dict[str, list[dict[str, Any]]] = {kind: [] for kind, _ in servers}
            for n in range(args.rounds):
                for kind, url in servers:
                    found = worker(kind, url, "search", experiments[kind], args.repeats)
                    found["load_average"] = os.getloadavg()[0]
                    rounds[kind].append(found)
                    print(f"round {n + 1}", kind, "search", found, flush=True)
            for kind, found_rounds in rounds.items():
                results[f"{kind}_search_rounds"] = found_rounds
                results[f"{kind}_search"] = {
                    which: {
                        **found_rounds[0][which],
                        "p50_ms": statistics.median(r[which]["p50_ms"] for r in found_rounds),
                    }
                    for which in ("without_spans", "with_spans")
                }
        finally:
            stop_group(heron_group)
            if mlflow_pid is not None:
                os.killpg(mlflow_pid, signal.SIGTERM)
    results["load_average"] = os.getloadavg()
    if args.heron_only:
        print("Heron alone:", json.dumps(results, indent=1))
    elif args.only == "all":
        h, m = results["heron_overhead"]["p50_ms"], results["mlflow_overhead"]["p50_ms"]
        results["ratio_overhead"] = h / m
        print(f"(a) traced call, 10 nested spans: Heron {h:.3f} ms, MLflow {m:.3f} ms, "
              f"ratio {h / m:.3f} (target <= 0.333)")  # fmt: skip
    for which in ("without_spans", "with_spans") if not args.heron_only else ():
        hs = results["heron_search"][which]["p50_ms"]
        ms = results["mlflow_search"][which]["p50_ms"]
        results[f"ratio_search_{which}"] = hs / ms
        print(f"(b) search_traces {which}: Heron {hs:.1f} ms, MLflow {ms:.1f} ms, "
              f"ratio {hs / ms:.3f} (target <= 0.1)")  # fmt: skip
    print("load average", results["load_average"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "traces_search.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
