"""bench/workspace_changes.py at a tiny scale, so it keeps working as the code moves (figures
are measured by running it by hand; no speed is asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.mark.slow
def test_workspace_changes_bench_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "workspace_changes.py", "--requests", "3", "--rounds", "1",
         "--json", str(tmp_path / "w.json")],
        cwd=BENCH, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    assert "experiments/get in team-a" in done.stdout
    assert "ChangeWatch.refresh() alone" in done.stdout
    assert (tmp_path / "w.json").exists()
