"""An experiment's chart view (/experiments/<id>/charts, the training view's Charts tab): one
chart per metric with each run a series, and parallel coordinates and a scatter plot over the
runs' params and metrics. The runs are those chosen (?runs=<id>&runs=<id>, as the runs table's
selection sends them), else the runs table's page with its filter and order."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities import Run
from heron.errors import InvalidParameter
from heron.services.access import requires
from heron.services.build import Services
from heron.ui.compare import MAX_COMPARED, chart_context
from heron.ui.rendering import PageResult, Renderer

MAX_CHARTED = MAX_COMPARED  # runs drawn at once


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    experiments, runs = services.experiments, services.runs

    def charts_page(request: Request) -> PageResult:
        experiment = experiments.get_experiment(request.path_params["experiment_id"])
        chosen = list(dict.fromkeys(i for i in request.query_params.getlist("runs") if i))
        if len(chosen) > MAX_CHARTED:
            raise InvalidParameter(f"At most {MAX_CHARTED} runs can be charted, got {len(chosen)}")
        if chosen:
            shown = [runs.get_run(run_id) for run_id in chosen]
            shown = [r for r in shown if r.info.experiment_id == experiment.experiment_id]
        else:
            shown = _visible(request, experiment.experiment_id)
        return "experiment_charts.html", {
            "experiment": experiment,
            "runs": shown,
            "chosen": bool(chosen),
            "filter": request.query_params.get("filter", ""),
            "tab": "charts",
            "nav": "experiments",
            **chart_context(shown),
        }

    def _visible(request: Request, experiment_id: str) -> list[Run]:
        page = runs.search_runs(
            [experiment_id],
            filter_string=request.query_params.get("filter", "").strip() or None,
            max_results=MAX_CHARTED,
            order_by=["attributes.start_time DESC"],
        )
        return list(page)

    return [
        renderer.get(
            "/experiments/{experiment_id}/charts",
            charts_page,
            requires("read", "experiment", "experiment_id"),
        )
    ]
