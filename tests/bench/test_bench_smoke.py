"""Every benchmark script runs to its end at a tiny scale (seconds each), so that a schema or
API change cannot leave one broken: a smoke check, no figure is asserted. The scripts that
measure beside MLflow run Heron alone here (their --heron-only, or --only heron)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"
SHARED = Path(os.environ.get("HERON_SHARED", ROOT.parent / "shared"))
# The scripts that drive the shared benchmark (run_bench.py, serve_bench.py) cannot run in a
# clone without ../shared beside it; they say so rather than fail on the missing files.
needs_shared = pytest.mark.skipif(
    not (SHARED / "bench" / "run_bench.py").exists(),
    reason=f"the shared benchmark is not at {SHARED / 'bench'} (set HERON_SHARED)",
)

pytestmark = [pytest.mark.bench, pytest.mark.slow]

# script, its tiny arguments, the results file it writes
SCRIPTS = [
    ("ui.py", ["--runs", "200", "--history", "500", "--repeats", "1"], "ui.json"),
    # 1,000 runs: the first with acc > 0.999, which its filter view waits for, is run 985
    ("ui_mlflow.py", ["--runs", "1000", "--repeats", "1", "--only", "heron"],
     "ui_mlflow_1000.json"),
    ("artifacts.py", ["--size-mb", "2", "--files", "10", "--repeats", "1", "--heron-only",
                      "--no-wait-quiet"], "artifacts.json"),
    ("models.py", ["--calls", "20", "--loads", "2", "--heron-only"], "models.json"),
    ("registry.py", ["--models", "50", "--versions-per-model", "2", "--repeats", "2",
                     "--heron-only"], "registry.json"),
    ("traces_search.py", ["--traces", "20", "--calls", "10", "--repeats", "2", "--rounds", "1",
                          "--heron-only"], "traces_search.json"),
    ("anchors.py", ["--quick", "--json", "{results}/anchors.json"], "anchors.json"),
    ("serving.py", ["--quick", "--no-mlflow"], "serving.json"),
    # genai_overview.py and recovery.py: tests/bench/test_genai_bench.py, test_recovery_bench.py
]  # fmt: skip
DRIVE_SHARED = {"anchors.py", "serving.py"}  # run_bench.py's W1-W4, serve_bench.py's W8


def _run(command: list[str], results: Path) -> None:
    env = {**os.environ, "HERON_BENCH_RESULTS": str(results), "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
    )
    assert done.returncode == 0, (
        f"$ {' '.join(command)}\n{done.stdout[-3000:]}{done.stderr[-5000:]}"
    )


@pytest.mark.parametrize(
    ("script", "args", "writes"),
    [
        pytest.param(*s, id=s[0], marks=[needs_shared] if s[0] in DRIVE_SHARED else [])
        for s in SCRIPTS
    ],
)
def test_bench_script_runs(script: str, args: list[str], writes: str, tmp_path: Path) -> None:
    args = [a.replace("{results}", str(tmp_path)) for a in args]
    _run([sys.executable, str(BENCH / script), *args], tmp_path)
    assert (tmp_path / writes).stat().st_size > 0


def test_traces_bench_runs(server_process: Any, tmp_path: Path) -> None:
    _run([sys.executable, str(BENCH / "traces.py"), "--url", server_process.url,
          "--traces", "20"], tmp_path)  # fmt: skip


@needs_shared
def test_bench_run_drives_the_shared_benchmark(tmp_path: Path) -> None:
    """bench/run: the shared run_bench.py (W1-W6) against a fresh heron server, and its table."""
    _run([str(BENCH / "run"), "--only", "W1,W2,W3,W4,W5,W6", "--repeats", "1",
          "--start-repeats", "1", "--time-cap", "2", "--no-wait-quiet"], tmp_path)  # fmt: skip
    assert "W4" in (tmp_path / "compare.md").read_text()
