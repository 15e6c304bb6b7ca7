"""Runs as a pandas DataFrame with MLflow's `search_runs` columns. Imports pandas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from heron.entities import Run


def runs_to_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """One row per run: the info columns, then `metrics.*`, `params.*` and `tags.*`.

    Times are UTC timestamps; a metric a run lacks is NaN, a param or tag None."""
    metric_keys = sorted({m.key for r in runs for m in r.data.metrics})
    param_keys = sorted({k for r in runs for k in r.data.params})
    tag_keys = sorted({k for r in runs for k in r.data.tags})
    columns: dict[str, list[Any]] = {
        "run_id": [r.info.run_id for r in runs],
        "experiment_id": [r.info.experiment_id for r in runs],
        "status": [str(r.info.status) for r in runs],
        "artifact_uri": [r.info.artifact_uri for r in runs],
        "start_time": [r.info.start_time for r in runs],
        "end_time": [r.info.end_time for r in runs],
    }
    for key in metric_keys:
        columns[f"metrics.{key}"] = [_metric(r, key) for r in runs]
    for key in param_keys:
        columns[f"params.{key}"] = [r.data.params.get(key) for r in runs]
    for key in tag_keys:
        columns[f"tags.{key}"] = [r.data.tags.get(key) for r in runs]
    frame = pd.DataFrame(columns)
    for name in ("start_time", "end_time"):
        frame[name] = pd.to_datetime(frame[name], unit="ms", utc=True)
    return frame


def _metric(run: Run, key: str) -> float:
    for m in run.data.metrics:
        if m.key == key:
            return m.value
    return float("nan")
