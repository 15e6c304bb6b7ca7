"""Experiment pages: the list (search, create, rename, delete, restore) and one experiment's
runs table (columns, sort, filter, pages, nested runs, compare, bulk delete and restore)."""

from __future__ import annotations

import urllib.parse

from starlette.requests import Request
from starlette.responses import RedirectResponse
from starlette.routing import BaseRoute

from heron.entities import Experiment, ViewType
from heron.errors import InvalidParameter
from heron.services.access import requires
from heron.services.build import Services
from heron.ui import genai_nav, paging, runs_table
from heron.ui.rendering import Form, PageResult, Renderer, field, safe_next

EXPERIMENTS_PER_PAGE = 100
_VIEWS = {"active": ViewType.ACTIVE_ONLY, "deleted": ViewType.DELETED_ONLY}


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    experiments, runs = services.experiments, services.runs

    def experiment_list(request: Request) -> PageResult:
        query = request.query_params
        search = query.get("q", "").strip()
        view = query.get("view", "active")
        if view not in _VIEWS:
            raise InvalidParameter(f"Unknown view {view!r}; use active or deleted")
        page = experiments.search_experiments(
            filter_string=_name_filter(search),
            view_type=_VIEWS[view],
            max_results=EXPERIMENTS_PER_PAGE,
            order_by=["last_update_time DESC"],
            page_token=query.get("page") or None,
        )
        return "experiments.html", {"page": page, "search": search, "view": view}

    def experiment_page(request: Request) -> PageResult:
        """The view the experiment calls for (a bare /experiments/<id>: GenAI's overview for
        an agent's traces), else the runs table."""
        experiment = experiments.get_experiment(request.path_params["experiment_id"])
        table_request = _table_request(request, experiment.experiment_id)
        table = runs_table.load(runs, table_request)
        has_runs = bool(table.rows)
        if not request.query_params and genai_nav.opens_genai(
            experiment,
            has_runs=has_runs,
            has_traces=not has_runs and _has_traces(experiment.experiment_id),
        ):
            return RedirectResponse(f"/experiments/{experiment.experiment_id}/overview", 302)
        return runs_page(request, experiment, table_request, table)

    def runs_tab(request: Request) -> PageResult:
        experiment = experiments.get_experiment(request.path_params["experiment_id"])
        table_request = _table_request(request, experiment.experiment_id)
        return runs_page(request, experiment, table_request, runs_table.load(runs, table_request))

    def _has_traces(experiment_id: str) -> bool:
        return bool(services.traces.search_traces([experiment_id], max_results=1).items)

    def runs_page(
        request: Request,
        experiment: Experiment,
        table_request: runs_table.TableRequest,
        table: runs_table.Table,
    ) -> PageResult:
        return "experiment.html", {
            "experiment": experiment,
            "table": table,
            "table_request": table_request,
            "pager": paging.pager(request, table.next_page_token, col=table.column_ids),
            "page_sizes": runs_table.PAGE_SIZES,
            "attribute_labels": {k: v[0] for k, v in runs_table.ATTRIBUTES.items()},
        }

    def create(request: Request, form: Form) -> str:
        experiment_id = experiments.create_experiment(field(form, "name").strip())
        return f"/experiments/{experiment_id}"

    def rename(request: Request, form: Form) -> str:
        experiment_id = request.path_params["experiment_id"]
        experiments.rename_experiment(experiment_id, field(form, "name").strip())
        return safe_next(field(form, "next"))

    def delete(request: Request, form: Form) -> str:
        experiments.delete_experiment(request.path_params["experiment_id"])
        return "/"

    def restore(request: Request, form: Form) -> str:
        experiments.restore_experiment(request.path_params["experiment_id"])
        return safe_next(field(form, "next"))

    def delete_runs(request: Request, form: Form) -> str:
        for run_id in _chosen_runs(form):
            runs.delete_run(run_id)
        return safe_next(field(form, "next"))

    def restore_runs(request: Request, form: Form) -> str:
        for run_id in _chosen_runs(form):
            runs.restore_run(run_id)
        return safe_next(field(form, "next"))

    one = "/ui/experiments/{experiment_id}"
    updates = requires("update", "experiment", "experiment_id")
    return [
        renderer.get("/", experiment_list, requires("read", "experiment")),
        renderer.get(
            "/experiments/{experiment_id}",
            experiment_page,
            requires("read", "experiment", "experiment_id"),
        ),
        renderer.get(
            "/experiments/{experiment_id}/runs",
            runs_tab,
            requires("read", "experiment", "experiment_id"),
        ),
        renderer.post("/ui/experiments/create", create, requires("create", "experiment")),
        renderer.post(f"{one}/rename", rename, updates),
        renderer.post(f"{one}/delete", delete, requires("delete", "experiment", "experiment_id")),
        renderer.post(f"{one}/restore", restore, updates),
        # The form's run_id fields (one for each run ticked).
        renderer.post("/ui/runs/delete", delete_runs, requires("delete", "run", "run_id")),
        renderer.post("/ui/runs/restore", restore_runs, requires("update", "run", "run_id")),
    ]


def _name_filter(search: str) -> str | None:
    """The search box: experiments whose name contains the text, any case."""
    if not search:
        return None
    return f"name ILIKE {runs_table.literal('%' + search + '%')}"


def _table_request(request: Request, experiment_id: str) -> runs_table.TableRequest:
    query = request.query_params
    size_text = query.get("size", "")
    sizes = (s for s in runs_table.PAGE_SIZES if str(s) == size_text)
    size = next(sizes, runs_table.DEFAULT_PAGE_SIZE)
    columns = [c for c in query.getlist("col") if c]
    for extra in query.get("add", "").split(","):
        extra = extra.strip()
        if extra and extra not in columns:
            runs_table.column(extra)  # a bad id is an error on the page
            columns.append(extra)
    return runs_table.TableRequest(
        experiment_id=experiment_id,
        filter=query.get("filter", "").strip(),
        sort=query.get("sort", "attributes.start_time"),
        descending=query.get("dir", "desc") != "asc",
        columns=columns,
        page_token=query.get("page") or None,
        view=query.get("view", "active"),
        page_size=size,
        hidden=frozenset(h for h in query.getlist("hide") if h),
    )


def compare_url(run_ids: list[str]) -> str:
    return "/compare?" + urllib.parse.urlencode([("runs", r) for r in run_ids])


def _chosen_runs(form: Form) -> list[str]:
    chosen = form.get("run_id", [])
    if not chosen:
        raise InvalidParameter("Choose the runs first: tick their boxes in the table")
    return chosen
