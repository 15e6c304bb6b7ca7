"""Trace retention: the experiment tag heron.trace.retentionDays applied by
TraceService.prune_traces, by the service itself on ingest (at most once per interval, in the
background), and by `heron traces prune`."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.services.test_traces import T0, new_trace_id, spans_of

from heron.cli.main import main
from heron.clock import now_ms
from heron.services import AllowAll
from heron.services.traces import RETENTION_TAG, TraceService


def _experiment(stores: Any, retention: str | None) -> str:
    tags = {} if retention is None else {RETENTION_TAG: retention}
    return str(
        stores.experiments.create_experiment(
            f"ret-{uuid.uuid4().hex[:6]}", artifact_location=None, tags=tags
        )
    )


def _log(service: TraceService, exp: str, start_ns: int) -> str:
    tid = new_trace_id()
    service.log_spans(exp, spans_of(tid, start=start_ns))
    return tid


def test_prune_applies_each_experiments_retention(stores: Any) -> None:
    service = TraceService(stores.traces, stores.assessments, AllowAll(), prune_interval_s=None)
    recent_ns = (now_ms() - 3_600_000) * 1_000_000  # an hour ago
    two_days_ns = (now_ms() - 2 * 86_400_000) * 1_000_000
    one_day = _experiment(stores, "1")
    one_week = _experiment(stores, "7")
    untagged = _experiment(stores, None)
    garbled = _experiment(stores, "a week")
    old_1, new_1 = _log(service, one_day, T0), _log(service, one_day, recent_ns)
    two_day_1 = _log(service, one_day, two_days_ns)
    kept = [_log(service, one_week, two_days_ns), _log(service, untagged, T0)]
    kept.append(_log(service, garbled, T0))

    assert service.prune_traces() == {one_day: 2}  # the 2023 and two-day-old ones
    assert [t.info.trace_id for t in service.get_traces([old_1, new_1, two_day_1])] == [new_1]
    assert len(service.get_traces(kept)) == 3
    assert service.prune_traces() == {}  # nothing left to prune


def test_ingest_prunes_in_the_background_at_most_once_per_interval(stores: Any) -> None:
    service = TraceService(stores.traces, stores.assessments, AllowAll(), prune_interval_s=600)
    exp = _experiment(stores, "1")
    old = _log(service, exp, T0)  # the first ingest starts a pass, which deletes it
    deadline = time.monotonic() + 30
    while service.get_traces([old]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert service.get_traces([old]) == []
    again = _log(service, exp, T0)  # within the interval: no second pass
    time.sleep(0.3)
    assert len(service.get_traces([again])) == 1
    service.close()


def test_cli_prune(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from heron.client import HeronClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    data = str(tmp_path / "data")
    with HeronClient(data) as client:
        client.backend.traces.prune_interval_s = None  # the CLI is what prunes here
        tagged = client.create_experiment("tagged", tags={RETENTION_TAG: "30"})
        untagged = client.create_experiment("untagged")
        for exp in (tagged, untagged):
            client.log_spans(exp, spans_of(new_trace_id(), start=T0))

    runner = CliRunner()
    result = runner.invoke(main, ["traces", "prune", "--tracking-uri", data])
    assert result.exit_code == 0, result.output
    assert f"Experiment {tagged}: 1 trace(s) deleted" in result.output
    assert "1 trace(s) deleted in all" in result.output

    result = runner.invoke(
        main, ["traces", "prune", "--tracking-uri", data, "-x", untagged, "--default-days", "30"]
    )
    assert result.exit_code == 0, result.output
    assert f"Experiment {untagged}: 1 trace(s) deleted" in result.output
    result = runner.invoke(main, ["traces", "prune", "--tracking-uri", data, "--default-days", "0"])
    assert result.exit_code != 0
    assert "--default-days" in result.output
