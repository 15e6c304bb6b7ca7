"""Compare runs: params and metrics side by side with differences marked, parallel
coordinates, a scatter plot of any two params/metrics, and metric charts overlaid."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities import Run
from heron.errors import InvalidParameter
from heron.services.access import requires
from heron.services.build import Services
from heron.ui.rendering import PageResult, Renderer, number

MAX_COMPARED = 100


@dataclass(frozen=True, slots=True)
class CompareRow:
    key: str
    cells: list[str]
    differs: bool  # the runs do not all have the same value


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    def compare_page(request: Request) -> PageResult:
        ids = list(dict.fromkeys(i for i in request.query_params.getlist("runs") if i))
        if not ids:
            raise InvalidParameter("Choose runs to compare: /compare?runs=<id>&runs=<id>")
        if len(ids) > MAX_COMPARED:
            raise InvalidParameter(f"At most {MAX_COMPARED} runs can be compared, got {len(ids)}")
        runs = [services.runs.get_run(run_id) for run_id in ids]
        experiment = services.experiments.get_experiment(runs[0].info.experiment_id)
        return "compare.html", {"runs": runs, "experiment": experiment, **chart_context(runs)}

    return [renderer.get("/compare", compare_page, requires("read", "run", "runs"))]


def chart_context(runs: Sequence[Run]) -> dict[str, object]:
    """What the compare and chart pages draw from runs: their params and metrics side by side,
    the parallel-coordinates and scatter data (`axes`, `data`), the scatter's default axes,
    and the runs and metric keys of the metric charts."""
    params = _rows(runs, sorted({k for r in runs for k in r.data.params}), _param)
    metrics = _rows(runs, sorted({m.key for r in runs for m in r.data.metrics}), _metric)
    axes = [f"params.{row.key}" for row in params] + [f"metrics.{row.key}" for row in metrics]
    data = {
        "axes": axes,
        "runs": [
            {
                "id": r.info.run_id,
                "name": r.info.run_name,
                "values": [_param_value(r, row.key) for row in params]
                + [_metric_value(r, row.key) for row in metrics],
            }
            for r in runs
        ],
    }
    first_metric = len(params) if metrics else 0
    return {
        "params": params,
        "metrics": metrics,
        "data": data,
        "axes": axes,
        "default_x": 0,
        "default_y": first_metric if first_metric < len(axes) else 0,
        "chart_runs": [{"id": r.info.run_id, "name": r.info.run_name} for r in runs],
        "metric_keys": [row.key for row in metrics],
    }


def _param(run: Run, key: str) -> str | None:
    return run.data.params.get(key)


def _metric(run: Run, key: str) -> str | None:
    value = _metric_value(run, key)
    return None if value is None else number(value)


def _rows(runs: Sequence[Run], keys: Sequence[str], value_of: object) -> list[CompareRow]:
    rows = []
    for key in keys:
        values = [value_of(run, key) for run in runs]  # type: ignore[operator]
        rows.append(CompareRow(key, [v or "" for v in values], len(set(values)) > 1))
    return rows


def _param_value(run: Run, key: str) -> float | str | None:
    """A param as the charts plot it: a number when it reads as one, else its text."""
    value = run.data.params.get(key)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def _metric_value(run: Run, key: str) -> float | None:
    for metric in run.data.metrics:
        if metric.key == key:
            return metric.value if metric.value == metric.value else None  # NaN: no point
    return None
