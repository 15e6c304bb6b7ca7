"""bench/recovery.py at a tiny scale, so it keeps working as the code moves (figures are
measured by running it by hand at full scale; no speed is asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.slow
def test_recovery_bench_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "recovery.py", "--size-mb", "4", "--repeats", "1", "--seconds", "1",
         "--points", "2000", "--no-wait-quiet", "--json", str(tmp_path / "r.json")],
        cwd=BENCH, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "PUT  plain" in done.stdout
    assert "W1 log-metric req/s" in done.stdout
