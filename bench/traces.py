"""Heron's tracing SDK in the trace_bench.py (W7) shape: 500 traces of 10 spans (a root and 9
traced children) produced in a burst, exported to a server over HTTP.

    python bench/traces.py --url http://127.0.0.1:5000 [--traces 500]

Prints end-to-end traces/s (produce + flush), traces lost (counted by the exporter and checked
by searching the server), the traced call's own cost, and search_traces p50 with and without
spans over what was stored."""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import heron
from heron import tracing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--traces", type=int, default=500)
    args = parser.parse_args()
    heron.set_tracking_uri(args.url)
    experiment_id = heron.set_experiment(f"heron-trace-bench-{uuid.uuid4().hex[:6]}").experiment_id

    @tracing.trace
    def child(i: int) -> int:
        return i * 2

    @tracing.trace
    def root(n: int) -> int:
        tracing.update_current_trace(tags={"bench_group": "even" if n % 2 == 0 else "odd"})
        return sum(child(i) for i in range(9))

    root(-1)  # warm up (connections, imports)
    tracing.flush()
    before = tracing.export_stats().exported
    start = time.perf_counter()
    calls = []
    for n in range(args.traces):
        t0 = time.perf_counter()
        root(n)
        calls.append(time.perf_counter() - t0)
    produced = time.perf_counter() - start
    tracing.flush()
    total = time.perf_counter() - start
    stats = tracing.export_stats()
    found = []
    token = None
    client = heron.HeronClient(args.url)
    while True:
        page = client.search_traces(
            [experiment_id], max_results=500, page_token=token, include_spans=False
        )
        found += list(page)
        token = page.next_page_token
        if not token:
            break
    print(
        f"traces/s end to end: {args.traces / total:.0f} ({total:.2f} s, produce {produced:.2f} s)"
    )
    print(f"exported {stats.exported - before}, lost {stats.lost}, stored {len(found) - 1}")
    print(f"traced call (10 spans): p50 {statistics.median(calls) * 1e3:.3f} ms")

    def p50(fn: object, repeats: int = 10) -> float:
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            fn()  # type: ignore[operator]
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1e3

    with_spans = p50(
        lambda: tracing.search_traces(
            [experiment_id], filter_string="tags.bench_group = 'even'", max_results=500
        )
    )
    without = p50(
        lambda: tracing.search_traces(
            [experiment_id],
            filter_string="tags.bench_group = 'even'",
            max_results=500,
            include_spans=False,
        )
    )
    print(f"search_traces tag filter p50: with spans {with_spans:.1f} ms, without {without:.1f} ms")


if __name__ == "__main__":
    main()
