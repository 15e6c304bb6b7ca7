"""The real mlflow 3.17.2 client's registered scorers against a Heron server: register (a
version per call), list, get, versions, start with a sample rate and filter, update, stop,
delete; and which traces a scorer at a sample rate picks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from heron.services.scorers import picked

pytestmark = pytest.mark.slow

RunMlflow = Callable[..., Any]


def test_mlflow_registered_scorer_lifecycle_against_heron(
    live_server: str, run_mlflow: RunMlflow
) -> None:
    result = run_mlflow(
        """
import json
import mlflow
from mlflow.genai.scorers import Safety, ScorerSamplingConfig
from mlflow.genai.scorers import delete_scorer, get_scorer, list_scorers

experiment_id = mlflow.set_experiment("monitored").experiment_id
safety = Safety().register(name="safety")
again = Safety().register(name="safety")
started = safety.start(sampling_config=ScorerSamplingConfig(sample_rate=0.5,
                                                            filter_string="trace.status = 'OK'"))
updated = started.update(sampling_config=ScorerSamplingConfig(sample_rate=0.1))
listed = [(s.name, s.sample_rate) for s in list_scorers()]
stopped = updated.stop()
fetched = get_scorer(name="safety")
delete_scorer(name="safety", version="all")
try:
    get_scorer(name="safety")
    gone = False
except Exception as exc:
    gone = "RESOURCE_DOES_NOT_EXIST" in str(exc) or "No scorer" in str(exc)
print(json.dumps({
    "versions": [safety.registered_version if hasattr(safety, "registered_version") else None,
                 again.registered_version if hasattr(again, "registered_version") else None],
    "started": started.sample_rate, "filter": started.filter_string, "updated": updated.sample_rate,
    "listed": listed, "stopped": stopped.sample_rate, "fetched": type(fetched).__name__,
    "gone": gone,
}))
""",
        MLFLOW_TRACKING_URI=live_server,
    )
    assert result["started"] == 0.5
    assert result["filter"] == "trace.status = 'OK'"
    assert result["updated"] == 0.1
    assert result["listed"] == [["safety", 0.1]]
    assert result["stopped"] == 0.0
    assert result["fetched"] == "Safety"
    assert result["gone"] is True


def test_a_lower_rate_picks_a_subset_of_the_traces_a_higher_one_picks() -> None:
    traces = [f"tr-{i:032x}" for i in range(2000)]
    at_half = {t for t in traces if picked(t, "safety", 0.5)}
    at_tenth = {t for t in traces if picked(t, "safety", 0.1)}
    assert at_tenth <= at_half
    assert 150 <= len(at_tenth) <= 250
    assert 900 <= len(at_half) <= 1100
    assert not any(picked(t, "safety", 0.0) for t in traces)
