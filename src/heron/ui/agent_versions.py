"""Agent versions: the LoggedModels of a GenAI app (the versions its traces name in
`mlflow.modelId`) with, over the GenAI view's window and filters, each version's trace volume,
latency, error rate, mean scores and the prompts it used; and two versions compared."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities import LoggedModel, reserved
from heron.entities.trace_analytics import PromptRef, VersionStats, linked_prompts
from heron.errors import InvalidParameter
from heron.services.access import requires
from heron.services.build import Services
from heron.ui import genai_query as gq
from heron.ui.overview import versions_of
from heron.ui.rendering import PageResult, Renderer
from heron.ui.runs_table import literal, quoted


@dataclass(frozen=True, slots=True)
class Version:
    model: LoggedModel | None  # None: the traces that name no version
    stats: VersionStats
    prompts: list[PromptRef]  # the model's own links, then those its traces made

    @property
    def error_rate(self) -> float | None:
        return self.stats.errors / self.stats.traces if self.stats.traces else None


def version_filter(model_id: str) -> str:
    return f"metadata.{quoted(reserved.TRACE_MODEL_ID)} = {literal(model_id)}"


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    def load(request: Request, models: Sequence[LoggedModel]) -> dict[str, Any]:
        eid = request.path_params["experiment_id"]
        query = gq.GenAIQuery.from_query(request.query_params)
        found: list[Version] = []
        error = filter_text = None
        try:
            start, end = query.window()
            filter_text = query.filter_string()
            stats = services.trace_analytics.versions(
                eid,
                [m.model_id for m in models],
                start_ms=start,
                end_ms=end,
                filter_string=filter_text or None,
            )
            by_id = {m.model_id: m for m in models}
            found = [_version(by_id.get(s.model_id or ""), s) for s in stats]
        except InvalidParameter as exc:
            error = exc.message
        return {
            "query": query,
            "found": found,
            "error": error,
            "filter_string": filter_text or "",
            "score_names": sorted({n for v in found for n in v.stats.scores}),
            "ranges": gq.RANGE_LABELS,
            "span_types": gq.SPAN_TYPES,
            "nav": "experiments",
            "tab": "versions",
        }

    def version_list(request: Request) -> PageResult:
        experiment = services.experiments.get_experiment(request.path_params["experiment_id"])
        models = versions_of(services, experiment.experiment_id)
        return "versions.html", {
            "experiment": experiment,
            "versions": models,
            "traces_href": lambda v: _traces_href(request, experiment.experiment_id, v),
            **load(request, models),
        }

    def version_compare(request: Request) -> PageResult:
        experiment = services.experiments.get_experiment(request.path_params["experiment_id"])
        chosen = [request.query_params.get(k, "").strip() for k in ("a", "b")]
        if not all(chosen) or chosen[0] == chosen[1]:
            raise InvalidParameter(
                "Choose two different versions to compare: ?a=<model id>&b=<model id>"
            )
        models = [services.logged_models.get_logged_model(m) for m in chosen]
        loaded = load(request, models)
        return "versions_compare.html", {
            "experiment": experiment,
            "versions": versions_of(services, experiment.experiment_id),
            "pair": loaded["found"][:2],
            "params": _param_rows(models),
            **loaded,
        }

    reads = requires("read", "experiment", "experiment_id")
    return [
        renderer.get("/experiments/{experiment_id}/versions", version_list, reads),
        renderer.get("/experiments/{experiment_id}/versions/compare", version_compare, reads),
    ]


def _version(model: LoggedModel | None, stats: VersionStats) -> Version:
    own = linked_prompts(model.tags.get(reserved.LINKED_PROMPTS)) if model else []
    prompts = list(dict.fromkeys([*own, *stats.prompts]))
    return Version(model=model, stats=stats, prompts=prompts)


def _traces_href(request: Request, experiment_id: str, version: Version) -> str | None:
    """The Traces tab on this version's traces in the window (None for the traces without a
    version: the filter grammar cannot ask for absent metadata)."""
    model_id = version.stats.model_id
    if model_id is None:
        return None
    query = gq.GenAIQuery.from_query(request.query_params)
    start, end = query.window()
    where = gq.in_range(query.filter_string(), start, end, version_filter(model_id))
    return gq.traces_link(experiment_id, where)


def _param_rows(models: Sequence[LoggedModel]) -> list[tuple[str, list[str], bool]]:
    keys = sorted({k for m in models for k in m.params})
    rows = []
    for key in keys:
        values = [m.params.get(key, "") for m in models]
        rows.append((key, values, len(set(values)) > 1))
    return rows
