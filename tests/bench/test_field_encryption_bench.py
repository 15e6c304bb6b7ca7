"""bench/field_encryption.py at a tiny scale, so it keeps working as the code moves (figures
are measured by running it by hand; no speed is asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.slow
def test_field_encryption_bench_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "field_encryption.py", "--runs", "3", "--traces", "2", "--requests",
         "3", "--rounds", "1", "--json", str(tmp_path / "f.json")],
        cwd=BENCH, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "runs/search (100 runs)" in done.stdout
    assert (tmp_path / "f.json").exists()


@pytest.mark.slow
def test_field_encryption_spans_bench_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "field_encryption_spans.py", "--spans", "3", "--requests", "2",
         "--rounds", "1", "--json", str(tmp_path / "s.json")],
        cwd=BENCH, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "ingest 3 spans, sensitive attrs" in done.stdout
    assert "traces/get (3 spans), first read" in done.stdout
    assert (tmp_path / "s.json").exists()
