"""The GenAI overview benchmark kept from rotting: its synthetic traffic reads back from the
overview as it was generated (SQLite and PostgreSQL), and the whole benchmark runs at a small
scale (fill, server, Chromium), and so does the build of its rollups."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from heron.services import AllowAll
from heron.services.trace_analytics import TraceAnalyticsService

BENCH = Path(__file__).resolve().parents[2] / "bench"
sys.path.insert(0, str(BENCH))
from genai_data import Turn, fill, traffic  # noqa: E402 - the benchmark's own module

DAY = 86_400_000


def percentile(values: Sequence[float], p: float) -> float:
    xs = sorted(values)
    h = (len(xs) - 1) * p
    k = int(h)
    upper = xs[k + 1] if k + 1 < len(xs) else xs[k]
    return xs[k] + (h - k) * (upper - xs[k])


def test_the_synthetic_traffic_reads_back_as_generated(stores: Any) -> None:
    experiment_id = stores.experiments.create_experiment("bench", artifact_location=None, tags={})
    now = int(time.time() * 1000)
    turns: list[Turn] = list(traffic(600, now - 2 * DAY, now))
    assert fill(stores, experiment_id, iter(turns), batch=250) == len(turns)
    service = TraceAnalyticsService(stores.trace_analytics, AllowAll())
    found = service.overview(experiment_id, start_ms=now - 2 * DAY, end_ms=now, grain_ms=DAY)
    totals = found.totals
    assert totals.traces == len(turns)
    assert totals.errors == sum(t.error for t in turns)
    assert totals.input_tokens == sum(t.input_tokens for t in turns)
    assert totals.cost == pytest.approx(sum(t.cost for t in turns))
    assert totals.latency.p90 == pytest.approx(percentile([t.duration_ms for t in turns], 0.9))
    tools = {tool.name: tool for tool in found.tools}
    calls = [c for t in turns for c in t.tools]
    for name, tool in tools.items():
        mine = [c for c in calls if c.name == name]
        assert tool.calls == len(mine)
        assert tool.errors == sum(c.error for c in mine)
        assert tool.latency.p50 == pytest.approx(
            percentile([c.duration_us // 1000 for c in mine], 0.5)
        )
    scores = {s.name: s for s in found.scores}
    relevance = [t.relevance for t in turns if t.relevance is not None]
    assert scores["relevance"].mean == pytest.approx(sum(relevance) / len(relevance))
    safe = [t.safe == "yes" for t in turns if t.safe is not None]
    assert scores["safety"].mean == pytest.approx(sum(safe) / len(safe))
    sessions = service.sessions(experiment_id, start_ms=now - 2 * DAY, end_ms=now)
    assert sessions.items[0].turns == 5


def test_the_benchmark_runs_at_a_small_scale(tmp_path: Path) -> None:
    result = tmp_path / "genai_overview.json"
    finished = subprocess.run(
        [sys.executable, "genai_overview.py", "--traces", "300", "--days", "2", "--repeats", "1",
         "--reuse", str(tmp_path / "bench"), "--out", str(result)],
        cwd=BENCH, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-4000:]
    report = json.loads(result.read_text())
    assert report["traces"] == 300
    default = report["median_ms"]["overview, last 7 days (the default view)"]
    assert default["traces"] == 300
    assert default["charts_drawn"] > 0
    # the first build of the rollups, timed again on the same data
    built = tmp_path / "genai_rollups_build.json"
    finished = subprocess.run(
        [sys.executable, "genai_rollups_build.py", "--reuse", str(tmp_path / "bench"),
         "--out", str(built)],
        cwd=BENCH, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert finished.returncode == 0, finished.stderr[-4000:]
    report = json.loads(built.read_text())
    assert report["hours"] in (47, 48)
    assert report["build"]["wall_s"] > 0
