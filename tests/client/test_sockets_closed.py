"""A program using Heron's SDK against a server leaves no socket open at exit: Python warns
'ResourceWarning: unclosed <socket...>' for each one the garbage collector finds, and such
lines ended every test run. A client the program never closed counts too, and a run it left
active is still ended at exit."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import heron

pytestmark = pytest.mark.slow

PROGRAM = """
import heron

heron.set_tracking_uri({url!r})
heron.set_experiment("sockets")
with heron.start_run():
    heron.log_param("lr", "0.1")
    for step in range(3):
        heron.log_metric("loss", 1.0 / (step + 1), step=step)

@heron.trace(name="answer")
def answer(question):
    return question.upper()

answer("why?")
heron.flush_trace_async_logging()
client = heron.HeronClient()  # never closed, as scripts do
assert client.search_experiments(filter_string="name = 'sockets'")
assert heron.search_traces(return_type="list")
left_open = heron.start_run()  # ended at exit, through a transport that hook closes
print(left_open.info.run_id)
"""


def test_the_sdk_closes_its_connections_at_exit(live_server: str, tmp_path: Path) -> None:
    script = tmp_path / "program.py"
    script.write_text(textwrap.dedent(PROGRAM.format(url=live_server)))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HERON_", "MLFLOW_"))}
    done = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", str(script)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr
    with heron.HeronClient(live_server) as client:
        assert client.get_run(done.stdout.strip()).info.status == "FINISHED"
