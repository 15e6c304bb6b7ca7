"""A model version's deployment job on its page: the latest run as a timeline of its tasks
(state, times, metrics, who approved, why it failed, logs), and the forms that approve or
reject it, cancel it, retry it from the task that stopped it, or start the job (again)."""

from __future__ import annotations

import urllib.parse

from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.errors import InvalidParameter
from heron.services.access import requires
from heron.services.deployment_job_runs import JobRunService
from heron.ui.rendering import Form, Renderer, field

PATH = "/ui/models/{name}/versions/{version}/deployment-job"


def _back(request: Request) -> str:
    name = urllib.parse.quote(request.path_params["name"], safe="")
    version = urllib.parse.quote(request.path_params["version"], safe="")
    return f"/models/{name}/versions/{version}#deployment-job"


def _run_of(request: Request, form: Form, runs: JobRunService) -> str:
    """The run the form names, when it is the version's own (a form cannot reach another's)."""
    run = runs.get_run(field(form, "run_id"))
    if (run.name, run.version) != (request.path_params["name"], request.path_params["version"]):
        raise InvalidParameter(f"Run {run.run_id!r} is not a run of this model version")
    return run.run_id


def routes(renderer: Renderer, runs: JobRunService) -> list[BaseRoute]:
    def decide(request: Request, form: Form) -> str:
        decision = field(form, "decision")
        if decision not in ("approve", "reject"):
            raise InvalidParameter("decision must be approve or reject")
        runs.decide(
            _run_of(request, form, runs), approved=decision == "approve",
            comment=field(form, "comment"), via="ui",
        )  # fmt: skip
        return _back(request)

    def cancel(request: Request, form: Form) -> str:
        runs.cancel_run(_run_of(request, form, runs), field(form, "reason") or None)
        return _back(request)

    def retry(request: Request, form: Form) -> str:
        runs.retry_run(_run_of(request, form, runs))
        return _back(request)

    def start(request: Request, form: Form) -> str:
        runs.start_run(request.path_params["name"], request.path_params["version"])
        return _back(request)

    promote = requires("promote", "registered_model", "name")
    update = requires("update", "registered_model", "name")
    return [
        renderer.post(f"{PATH}/decide", decide, promote),
        renderer.post(f"{PATH}/cancel", cancel, update),
        renderer.post(f"{PATH}/retry", retry, update),
        renderer.post(f"{PATH}/start", start, update),
    ]
