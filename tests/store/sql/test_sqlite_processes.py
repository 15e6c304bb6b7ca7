"""Several processes on one SQLite file (`heron server --workers N`, or scripts logging in
process beside a server): their writes wait for each other instead of failing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from heron.client.local import LocalBackend

WRITER = textwrap.dedent(
    """
    import sys
    from heron.client.local import LocalBackend
    from heron.entities import Metric, Param, RunTag

    backend = LocalBackend(sys.argv[1])
    for i in range(int(sys.argv[4])):
        run = backend.runs.create_run(sys.argv[2], run_name=f"{sys.argv[3]}-{i}")
        backend.runs.log_batch(
            run.info.run_id,
            params=[Param(key="p", value=str(i))],
            metrics=[Metric(key="m", value=float(i), timestamp=0, step=0)],
            tags=[RunTag(key="t", value=sys.argv[3])],
        )
    backend.close()
    """
)


def test_three_processes_writing_at_once_all_succeed(tmp_path: Path) -> None:
    uri = f"sqlite:///{tmp_path / 'heron.db'}"
    backend = LocalBackend(uri)
    try:
        experiment_id = backend.experiments.create_experiment("shared")
        runs_each = 200
        writers = [
            subprocess.Popen(
                [sys.executable, "-c", WRITER, uri, experiment_id, name, str(runs_each)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("a", "b", "c")
        ]
        errors = [w.communicate(timeout=120)[1] for w in writers]
        assert [w.returncode for w in writers] == [0, 0, 0], errors
        page = backend.runs.search_runs([experiment_id], max_results=1000)
        assert len(page.items) == 3 * runs_each
        assert all(run.data.params == {"p": run.info.run_name.split("-")[1]} for run in page)
    finally:
        backend.close()
