"""bench/genai_eval.py runs at a tiny scale (so it does not rot when the code moves)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_evaluation_benchmark_runs_at_a_tiny_scale(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "genai_eval.py"),
            "--rows",
            "6",
            "--delay-ms",
            "5",
            "--dataset-records",
            "30",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    sides = [line["side"] for line in lines]
    assert sides == ["dataset_load", "dataset_load", "bare_calls", "heron"]
    assert lines[2]["calls"] == 6 * 2  # the same judge calls, made bare
    heron = lines[-1]
    assert heron["metrics"] == {
        "short/mean": 1.0,
        "correctness/mean": 1.0,
        "relevance_to_query/mean": 1.0,
    }
    assert heron["stored_assessments"] == 6 * 4
