"""bench/serving.py at a tiny scale (--smoke): the benchmark keeps working as the code moves.
Its figures are not checked (speed is measured in benchmarks, never asserted in tests)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def test_serving_bench_runs_at_a_tiny_scale() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "serving.py"), "--smoke"],
        capture_output=True, text=True, timeout=1200, check=False, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    table = json.loads((ROOT / "bench-results" / "serving-smoke.json").read_text())
    assert set(table) == {"floor", "heron", "endpoint", "endpoint_capture"}
    for column in ("heron", "endpoint", "endpoint_capture"):
        assert table[column]["c1_errors"] == 0
        assert table[column]["c16_non_2xx"] == 0
    assert table["endpoint_capture"]["captured_some"] is True
