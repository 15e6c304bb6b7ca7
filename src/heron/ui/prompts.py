"""Prompt pages: every prompt (/prompts), an experiment's (/experiments/<id>/prompts, the
GenAI view's tab), and one prompt (/prompts/<name>): its aliases and tags, its versions, two
versions side by side with their differences, and the traces that used each version."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities import reserved
from heron.entities.prompt import PromptVersion, Template, is_prompt, prompt_of, version_of
from heron.entities.trace import TraceInfo
from heron.errors import InvalidParameter, NotFound, PermissionDenied
from heron.services.access import requires
from heron.services.build import Services
from heron.ui.rendering import PageResult, Renderer
from heron.ui.runs_table import literal

PROMPTS_PER_PAGE = 100
TRACES_PER_VERSION = 20
MAX_EXPERIMENTS_SEARCHED = 100
_IS_PROMPT = f"tags.`{reserved.IS_PROMPT}` = 'true'"


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One row of the side-by-side view: the left and right text (None where a side has no
    line) and how they differ: same, changed, removed or added."""

    left: str | None
    right: str | None
    kind: str


def template_lines(template: Template) -> list[str]:
    """A template as lines of text: a chat's messages as `role: content`."""
    if isinstance(template, str):
        return template.splitlines() or [""]
    return [f"{m.get('role', '?')}: {line}" for m in template
            for line in str(m.get("content", "")).splitlines() or [""]]  # fmt: skip


def side_by_side(old: Sequence[str], new: Sequence[str]) -> list[DiffLine]:
    """The two versions' lines aligned, each row marked with how it differs."""
    rows: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            rows += [DiffLine(a, b, "same") for a, b in zip(old[i1:i2], new[j1:j2], strict=True)]
            continue
        left, right = old[i1:i2], new[j1:j2]
        for k in range(max(len(left), len(right))):
            a = left[k] if k < len(left) else None
            b = right[k] if k < len(right) else None
            kind = (
                "changed"
                if a is not None and b is not None
                else "removed"
                if b is None
                else "added"
            )
            rows.append(DiffLine(a, b, kind))
    return rows


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    registry, traces, experiments = services.registry, services.traces, services.experiments

    def prompt_list(request: Request) -> PageResult:
        search = request.query_params.get("q", "").strip()
        text = _IS_PROMPT + (f" AND name ILIKE {literal('%' + search + '%')}" if search else "")
        page = registry.search_registered_models(
            filter_string=text,
            max_results=PROMPTS_PER_PAGE,
            order_by=["name ASC"],
            page_token=request.query_params.get("page") or None,
        )
        prompts = [prompt_of(m) for m in page if is_prompt(m)]
        return "prompts.html", {
            "prompts": prompts, "page": page, "search": search, "nav": "prompts",
            "experiment": None,
        }  # fmt: skip

    def experiment_prompts(request: Request) -> PageResult:
        experiment = experiments.get_experiment(request.path_params["experiment_id"])
        linked = f",{experiment.experiment_id},"
        page = registry.search_registered_models(
            filter_string=f"{_IS_PROMPT} AND tags.`_mlflow_experiment_ids` LIKE "
            f"{literal('%' + linked + '%')}",
            max_results=PROMPTS_PER_PAGE,
            order_by=["name ASC"],
            page_token=request.query_params.get("page") or None,
        )
        return "prompts.html", {
            "prompts": [prompt_of(m) for m in page if is_prompt(m)],
            "page": page,
            "search": "",
            "experiment": experiment,
            "tab": "prompts",
            "nav": "experiments",
        }

    def prompt_page(request: Request) -> PageResult:
        model = registry.get_registered_model(request.path_params["name"])
        if not is_prompt(model):
            raise InvalidParameter(f"{model.name!r} is a registered model, not a prompt")
        found = registry.search_model_versions(
            filter_string=f"name = {literal(model.name)} AND {_IS_PROMPT}",
            order_by=["version_number DESC"],
            max_results=1000,
        )
        versions = [version_of(v) for v in found]
        left, right = _compared(request, versions)
        prompt = prompt_of(model)
        experiment_ids = _experiments_searched(prompt.experiment_ids)
        used = {v.version: _traces_of(v, experiment_ids) for v in versions}
        return "prompt.html", {
            "prompt": prompt,
            "experiment_names": {e: _experiment_name(e) for e in prompt.experiment_ids},
            "versions": versions,
            "left": left,
            "right": right,
            "diff": side_by_side(
                template_lines(left.template) if left else [],
                template_lines(right.template) if right else [],
            ),
            "used": used,
            "nav": "prompts",
        }

    def _compared(
        request: Request, versions: list[PromptVersion]
    ) -> tuple[PromptVersion | None, PromptVersion | None]:
        """The versions the page compares: ?a=&b=, else the latest and the one before it."""
        by_number = {str(v.version): v for v in versions}
        right = by_number.get(request.query_params.get("b", "")) or (
            versions[0] if versions else None
        )
        default_left = versions[1] if len(versions) > 1 else right
        left = by_number.get(request.query_params.get("a", "")) or default_left
        return left, right

    def _experiment_name(experiment_id: str) -> str:
        """The linked experiment's name, or its id where it is gone or not the reader's."""
        try:
            return experiments.get_experiment(experiment_id).name
        except (NotFound, PermissionDenied):
            return f"experiment {experiment_id}"

    def _experiments_searched(linked: Sequence[str]) -> list[str]:
        if linked:
            return list(linked)[:MAX_EXPERIMENTS_SEARCHED]
        page = experiments.search_experiments(max_results=MAX_EXPERIMENTS_SEARCHED)
        return [e.experiment_id for e in page]

    def _traces_of(version: PromptVersion, experiment_ids: list[str]) -> list[TraceInfo]:
        if not experiment_ids:
            return []
        page = traces.search_traces(
            experiment_ids,
            filter_string=f"prompt = {literal(f'{version.name}/{version.version}')}",
            max_results=TRACES_PER_VERSION,
        )
        return list(page)

    return [
        renderer.get("/prompts", prompt_list, requires("read", "registered_model")),
        renderer.get("/prompts/{name}", prompt_page, requires("read", "registered_model", "name")),
        renderer.get(
            "/experiments/{experiment_id}/prompts",
            experiment_prompts,
            requires("read", "experiment", "experiment_id"),
        ),
    ]
