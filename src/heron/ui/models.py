"""Model pages: registered models, a model with its versions, a version with its lineage,
signature and activity log (comments addable), and logged models with their metrics."""

from __future__ import annotations

import contextlib
import urllib.parse
from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute

from heron.entities import LoggedModel
from heron.errors import HeronError
from heron.services.access import requires
from heron.services.build import Services
from heron.ui import artifacts, markdown
from heron.ui.rendering import Form, PageResult, Renderer, field
from heron.ui.runs_table import literal

MODELS_PER_PAGE = 100
LOGGED_MODELS_PER_PAGE = 100


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    registry = services.registry

    def model_list(request: Request) -> PageResult:
        search = request.query_params.get("q", "").strip()
        page = registry.search_registered_models(
            filter_string=f"name ILIKE {literal('%' + search + '%')}" if search else None,
            max_results=MODELS_PER_PAGE,
            order_by=["name ASC"],
            page_token=request.query_params.get("page") or None,
        )
        return "models.html", {"page": page, "search": search, "nav": "models"}

    def model_page(request: Request) -> PageResult:
        model = registry.get_registered_model(request.path_params["name"])
        versions = registry.search_model_versions(
            filter_string=f"name = {literal(model.name)}",
            order_by=["version_number DESC"],
            page_token=request.query_params.get("page") or None,
        )
        return "model.html", {
            "model": model,
            "versions": versions,
            "description": markdown.render(model.description or ""),
            "version_aliases": _aliases_by_version(model.aliases),
            "nav": "models",
        }

    def version_page(request: Request) -> PageResult:
        name, version = request.path_params["name"], request.path_params["version"]
        lineage = registry.get_model_version_lineage(name, version)
        model_version = lineage.model_version
        return "model_version.html", {
            "mv": model_version,
            "lineage": lineage,
            "description": markdown.render(model_version.description or ""),
            "activity": registry.list_model_version_activity(name, model_version.version),
            "job_run": services.job_runs.latest_run(name, model_version.version),
            "signature": _signature(services, model_version.storage_location),
            "nav": "models",
        }

    def add_comment(request: Request, form: Form) -> str:
        name, version = request.path_params["name"], request.path_params["version"]
        registry.add_model_version_comment(name, version, field(form, "comment"))
        return f"/models/{_path(name)}/versions/{_path(version)}#activity"

    def logged_model_list(request: Request) -> PageResult:
        experiment_id = request.query_params.get("experiment", "").strip()
        experiments = services.experiments.search_experiments(max_results=1000).items
        page = None
        if experiment_id:
            page = services.logged_models.search_logged_models(
                [experiment_id],
                filter_string=request.query_params.get("filter") or None,
                max_results=LOGGED_MODELS_PER_PAGE,
                page_token=request.query_params.get("page") or None,
            )
        elif experiments:
            target = f"/logged-models?experiment={experiments[0].experiment_id}"
            return RedirectResponse(target, status_code=303)
        models = list(page.items) if page else []
        return "logged_models.html", {
            "page": page,
            "models": models,
            "metric_keys": sorted({m.key for model in models for m in model.metrics}),
            "latest": {model.model_id: _latest_metrics(model) for model in models},
            "experiments": experiments,
            "experiment_id": experiment_id,
            "nav": "logged-models",
        }

    def logged_model_page(request: Request) -> PageResult:
        model = services.logged_models.get_logged_model(request.path_params["model_id"])
        return "logged_model.html", {
            "model": model,
            "experiment": services.experiments.get_experiment(model.experiment_id),
            "latest": _latest_metrics(model),
            "signature": _signature(services, model.artifact_location),
            "nav": "logged-models",
        }

    reads = requires("read", "registered_model", "name")
    version = "/models/{name}/versions/{version}"
    return [
        renderer.get("/models", model_list, requires("read", "registered_model")),
        renderer.get("/models/{name}", model_page, reads),
        renderer.get(version, version_page, reads),
        renderer.post(f"/ui{version}/comments", add_comment, reads),  # readers may comment
        renderer.get(
            "/logged-models", logged_model_list, requires("read", "experiment", "experiment")
        ),
        renderer.get(
            "/logged-models/{model_id}",
            logged_model_page,
            requires("read", "logged_model", "model_id"),
        ),
    ]


def _path(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


def _aliases_by_version(aliases: Mapping[str, str]) -> dict[str, list[str]]:
    by_version: dict[str, list[str]] = {}
    for alias, version in aliases.items():
        by_version.setdefault(str(version), []).append(alias)
    return by_version


def _latest_metrics(model: LoggedModel) -> dict[str, float]:
    """Each metric's value at its latest step (then timestamp)."""
    latest: dict[str, tuple[int, int, float]] = {}
    for m in model.metrics:
        if m.key not in latest or (m.step, m.timestamp) >= latest[m.key][:2]:
            latest[m.key] = (m.step, m.timestamp, m.value)
    return {key: value for key, (_, _, value) in sorted(latest.items())}


def _signature(services: Services, location: str) -> dict[str, object]:
    """The MLmodel summary at a model's storage location ({} when it cannot be read)."""
    if not location:
        return {}
    with contextlib.suppress(HeronError, OSError, ValueError):
        where = artifacts.Location(services.artifacts, location)
        data, _ = where.head("MLmodel")
        return artifacts.mlmodel_summary(data.decode("utf-8", errors="replace"))
    return {}
