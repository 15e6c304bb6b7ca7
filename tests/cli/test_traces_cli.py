"""`heron traces list|show` on traces the SDK recorded in a data directory."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import heron
from heron import tracing
from heron.cli.main import main


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str, str]:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    data = str(tmp_path / "data")
    heron.set_tracking_uri(data)
    try:
        experiment_id = heron.set_experiment("cli-traces").experiment_id

        @tracing.trace(span_type="TOOL")
        def search(q: str) -> list[str]:
            time.sleep(0.002)
            return [q]

        @tracing.trace(span_type="AGENT")
        def agent(q: str) -> str:
            with tracing.start_span("plan", span_type="CHAIN"):
                search(q)
            return "done"

        agent("why?")
        trace_id = tracing.get_last_active_trace_id()
        assert trace_id is not None
        assert tracing.flush(timeout_s=30)
    finally:
        heron.set_tracking_uri(None)
    return data, experiment_id, trace_id


def test_list_and_show_print_the_span_tree(recorded: tuple[str, str, str]) -> None:
    data, experiment_id, trace_id = recorded
    runner = CliRunner()
    env = {"COLUMNS": "200"}
    listed = runner.invoke(
        main, ["traces", "list", "-x", experiment_id, "--tracking-uri", data], env=env
    )
    assert listed.exit_code == 0, listed.output
    assert trace_id in listed.output
    assert "agent" in listed.output
    shown = runner.invoke(main, ["traces", "show", trace_id, "--tracking-uri", data], env=env)
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    agent, plan, search = (
        next(i for i, line in enumerate(lines) if name in line)
        for name in (" agent ", "plan", "search")
    )
    assert agent < plan < search
    assert "TOOL" in lines[search]
    assert " ms" in lines[search]
    missing = runner.invoke(
        main, ["traces", "show", "tr-" + "0" * 32, "--tracking-uri", data], env=env
    )
    assert missing.exit_code != 0
    assert "not found" in missing.output
