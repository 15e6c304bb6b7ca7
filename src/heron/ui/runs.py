"""The run page: overview, description, tags, params, metrics, datasets, logged models,
metric charts and the artifact browser; and the forms that edit a run."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from heron.entities import LoggedModel, Run, reserved
from heron.errors import HeronError, InvalidParameter, NotFound
from heron.services.access import requires
from heron.services.build import Services
from heron.store.artifacts import FileStream, paths
from heron.store.artifacts.ranges import RangeNotSatisfiable
from heron.ui import artifacts, markdown
from heron.ui.rendering import Form, PageResult, Renderer, field, safe_next
from heron.web.files import attachment, file_response, requested_range
from heron.web.routes import PolicyRoute

MAX_CHILDREN = 100
MAX_MODELS = 50


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    def run_context(request: Request, tab: str) -> dict[str, Any]:
        run = services.runs.get_run(request.path_params["run_id"])
        return {
            "run": run,
            "experiment": services.experiments.get_experiment(run.info.experiment_id),
            "tab": tab,
            "metric_keys": sorted(m.key for m in run.data.metrics),
        }

    def run_page(request: Request) -> PageResult:
        context = run_context(request, "overview")
        run: Run = context["run"]
        tags = run.data.tags
        children = services.runs.search_runs(
            [run.info.experiment_id],
            filter_string=f"tags.`{reserved.PARENT_RUN_ID}` = '{run.info.run_id}'",
            max_results=MAX_CHILDREN,
        )
        context.update(
            description=markdown.render(tags.get(reserved.NOTE, "")),
            note=tags.get(reserved.NOTE, ""),
            user_tags=sorted(
                (k, v) for k, v in tags.items() if not k.startswith(reserved.SYSTEM_PREFIX)
            ),
            system_tags=sorted(
                (k, v) for k, v in tags.items() if k.startswith(reserved.SYSTEM_PREFIX)
            ),
            params=sorted(run.data.params.items()),
            metrics=sorted(run.data.metrics, key=lambda m: m.key),
            parent_id=tags.get(reserved.PARENT_RUN_ID),
            children=list(children.items),
            models=_models(services, run),
        )
        return "run.html", context

    def charts_page(request: Request) -> PageResult:
        return "run_charts.html", run_context(request, "charts")

    def artifacts_page(request: Request) -> PageResult:
        context = run_context(request, "artifacts")
        where = artifacts.Location(services.artifacts, context["run"].info.artifact_uri)
        entry = artifacts.find(where, request.query_params.get("path", ""))
        directory = entry.path if entry and entry.is_dir else _parent(entry.path if entry else "")
        context.update(
            entries=where.list(directory),
            directory=directory,
            crumbs=_crumbs(directory),
            selected=entry,
            preview=artifacts.preview(where, entry) if entry and not entry.is_dir else None,
        )
        return "run_artifacts.html", context

    def open_artifact(request: Request) -> tuple[str, FileStream]:
        run = services.runs.get_run(request.path_params["run_id"])
        path = paths.clean(request.query_params.get("path", ""))
        if not path:
            raise InvalidParameter("Give the artifact's path: ?path=dir/file")
        where = artifacts.Location(services.artifacts, run.info.artifact_uri)
        return path, where.read(path, requested_range(request.headers))

    async def raw_artifact(request: Request) -> Response:
        try:
            path, chunks = await run_in_threadpool(open_artifact, request)
        except HeronError as exc:
            answer = renderer.error(request, exc)
            if isinstance(exc, RangeNotSatisfiable):
                answer.headers["Content-Range"] = f"bytes */{exc.size}"
            return answer
        download = bool(request.query_params.get("download"))
        return _artifact_response(path, chunks, download=download)

    def set_tag(request: Request, form: Form) -> str:
        run_id = request.path_params["run_id"]
        services.runs.set_tag(run_id, field(form, "key").strip(), field(form, "value"))
        return safe_next(field(form, "next"))

    def delete_tag(request: Request, form: Form) -> str:
        services.runs.delete_tag(request.path_params["run_id"], field(form, "key"))
        return safe_next(field(form, "next"))

    def set_description(request: Request, form: Form) -> str:
        run_id = request.path_params["run_id"]
        services.runs.set_tag(run_id, reserved.NOTE, field(form, "description"))
        return f"/runs/{run_id}"

    def rename(request: Request, form: Form) -> str:
        run_id = request.path_params["run_id"]
        name = field(form, "name").strip()
        if not name:
            raise InvalidParameter("A run name cannot be empty")
        services.runs.update_run(run_id, run_name=name)
        return f"/runs/{run_id}"

    reads = requires("read", "run", "run_id")
    updates = requires("update", "run", "run_id")
    return [
        renderer.get("/runs/{run_id}", run_page, reads),
        renderer.get("/runs/{run_id}/charts", charts_page, reads),
        renderer.get("/runs/{run_id}/artifacts", artifacts_page, reads),
        PolicyRoute("/ui/runs/{run_id}/artifact", raw_artifact, methods=["GET"], policy=reads),
        renderer.post("/ui/runs/{run_id}/tags", set_tag, updates),
        renderer.post("/ui/runs/{run_id}/tags/delete", delete_tag, updates),
        renderer.post("/ui/runs/{run_id}/description", set_description, updates),
        renderer.post("/ui/runs/{run_id}/rename", rename, updates),
    ]


def _models(services: Services, run: Run) -> list[tuple[str, str, LoggedModel | None]]:
    """The logged models of a run: those it made (source run), produced (outputs) and used
    (inputs), as far as they still exist."""
    made = services.logged_models.search_logged_models(
        [run.info.experiment_id],
        filter_string=f"source_run_id = '{run.info.run_id}'",
        max_results=MAX_MODELS,
    )
    found: list[tuple[str, str, LoggedModel | None]] = [
        ("source", m.model_id, m) for m in made.items
    ]
    seen = {m.model_id for m in made.items}
    ids = [("output", o.model_id) for o in run.model_outputs]
    ids += [("input", i.model_id) for i in run.model_inputs]
    for direction, model_id in ids[:MAX_MODELS]:
        if model_id in seen:
            continue
        try:
            found.append((direction, model_id, services.logged_models.get_logged_model(model_id)))
        except NotFound:
            found.append((direction, model_id, None))
    return found


def _parent(path: str) -> str:
    return path.rpartition("/")[0]


def _crumbs(directory: str) -> list[tuple[str, str]]:
    """(name, path) for each directory from the root down to `directory`."""
    crumbs = []
    parts = directory.split("/") if directory else []
    for index, name in enumerate(parts):
        crumbs.append((name, "/".join(parts[: index + 1])))
    return crumbs


def _artifact_response(path: str, chunks: FileStream, *, download: bool) -> Response:
    name = path.rsplit("/", 1)[-1]
    headers = {
        "Content-Security-Policy": artifacts.ARTIFACT_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=60",
    }
    media_type = artifacts.media_type(path)
    if download or media_type == "application/octet-stream":
        headers["Content-Disposition"] = attachment(name)
    return file_response(chunks, media_type=media_type, headers=headers)
