"""An experiment's two views and the switch between them: training (runs, charts) and GenAI
(overview, traces, sessions, evaluations, prompts, versions). A tab shows only when the UI
serves its page, so pages added later (evaluations, prompts, charts) appear by themselves.

`/experiments/<id>` opens the view the experiment calls for: its `mlflow.experimentKind` tag
when it has one (genai_* is GenAI), else GenAI when it holds traces and no runs."""

from __future__ import annotations

import urllib.parse
from collections.abc import Collection
from dataclasses import dataclass

from starlette.requests import Request

from heron.entities import Experiment, reserved
from heron.ui.genai_query import kept

TRAINING, GENAI = "training", "genai"
# (key, label, route path): the route path also says whether the page exists
_TABS = {
    TRAINING: (
        ("runs", "Runs", "/experiments/{experiment_id}/runs"),
        ("charts", "Charts", "/experiments/{experiment_id}/charts"),
    ),
    GENAI: (
        ("overview", "Overview", "/experiments/{experiment_id}/overview"),
        ("traces", "Traces", "/experiments/{experiment_id}/traces"),
        ("sessions", "Sessions", "/experiments/{experiment_id}/sessions"),
        ("evaluations", "Evaluations", "/experiments/{experiment_id}/evaluations"),
        ("prompts", "Prompts", "/experiments/{experiment_id}/prompts"),
        ("versions", "Versions", "/experiments/{experiment_id}/versions"),
    ),
}
_VIEW_OF = {key: view for view, tabs in _TABS.items() for key, _, _ in tabs}


@dataclass(frozen=True, slots=True)
class Tab:
    key: str
    label: str
    href: str
    current: bool


@dataclass(frozen=True, slots=True)
class Nav:
    view: str  # TRAINING or GENAI
    tabs: list[Tab]
    training_href: str
    genai_href: str


def nav(pages: Collection[str], request: Request, experiment_id: str, current: str) -> Nav:
    """The switch and the current view's tabs, for the page of tab `current`. The GenAI tabs
    carry the window and filters of this page's URL (each view keeps its state there)."""
    view = _VIEW_OF.get(current, TRAINING)
    eid = urllib.parse.quote(experiment_id, safe="")
    carry = kept(request.query_params) if view == GENAI else ""
    tabs = [
        Tab(key, label, path.format(experiment_id=eid) + carry, key == current)
        for key, label, path in _TABS[view]
        if path in pages
    ]
    return Nav(
        view=view,
        tabs=tabs,
        training_href=f"/experiments/{eid}/runs",
        genai_href=f"/experiments/{eid}/overview",
    )


def opens_genai(experiment: Experiment, *, has_runs: bool, has_traces: bool) -> bool:
    """Whether `/experiments/<id>` opens the GenAI view."""
    kind = experiment.tags.get(reserved.EXPERIMENT_KIND)
    if kind:
        return kind.startswith("genai")
    return has_traces and not has_runs
