"""Heron's deployment job routes: job definitions and their versions (/deployment-jobs/...),
and runs of a job for a model version (/deployment-job-runs/...): start, cancel, retry from
the failed task, approve or reject."""

from __future__ import annotations

from heron.entities.deployment_jobs import (
    DeploymentJob,
    DeploymentJobVersion,
    JobRun,
    TaskRun,
    TaskSpec,
)
from heron.errors import InvalidParameter
from heron.server.wire import Endpoints, Fields, Json
from heron.services.access import requires
from heron.services.deployment_job_runs import JobRunService
from heron.services.deployment_jobs import DeploymentJobService
from heron.web.routes import PolicyRoute


def task_spec(t: TaskSpec) -> Json:
    return {"name": t.name, "type": t.kind.value, "params": dict(t.params), "retries": t.retries}


def job_json(j: DeploymentJob) -> Json:
    return {
        "job_id": j.job_id,
        "name": j.name,
        "version": j.version,
        "description": j.description,
        "tasks": [task_spec(t) for t in j.tasks],
        "source": j.source,
        "creation_timestamp": j.creation_timestamp,
        "last_updated_timestamp": j.last_updated_timestamp,
        "created_by": j.created_by,
    }


def job_version_json(v: DeploymentJobVersion) -> Json:
    return {
        "job_id": v.job_id,
        "version": v.version,
        "tasks": [task_spec(t) for t in v.tasks],
        "source": v.source,
        "creation_timestamp": v.creation_timestamp,
        "created_by": v.created_by,
    }


def task_json(t: TaskRun) -> Json:
    return {
        "index": t.index,
        "name": t.name,
        "type": t.kind.value,
        "state": t.state.value,
        "attempts": t.attempts,
        "started_at": t.started_at,
        "finished_at": t.finished_at,
        "metrics": dict(t.metrics),
        "detail": dict(t.detail),
        "logs": t.logs,
        "error": t.error,
    }


def run_json(r: JobRun) -> Json:
    return {
        "run_id": r.run_id,
        "job_id": r.job_id,
        "job_name": r.job_name,
        "job_version": r.job_version,
        "name": r.name,
        "version": r.version,
        "state": r.state.value,
        "current_task": r.current_task,
        "started_by": r.started_by,
        "creation_timestamp": r.creation_timestamp,
        "last_updated_timestamp": r.last_updated_timestamp,
        "finished_at": r.finished_at,
        "failure_reason": r.failure_reason,
        "tasks": [task_json(t) for t in r.tasks],
    }


def _definition(f: Fields) -> object:
    """The job's tasks as given: YAML or JSON text, or the JSON object or list itself."""
    given = f.data.get("definition")
    if given is None:
        raise InvalidParameter(
            "Missing value for required parameter 'definition' (YAML or JSON text of the "
            "job's tasks, or the tasks themselves)"
        )
    return given


def job_routes(api: Endpoints, jobs: DeploymentJobService) -> list[PolicyRoute]:
    def create(f: Fields) -> Json:
        job = jobs.create_job(
            f.required_string("name"), _definition(f), description=f.string("description")
        )
        return {"job": job_json(job)}

    def update(f: Fields) -> Json:
        job = jobs.update_job(
            f.required_string("job_id"), _definition(f), description=f.string("description")
        )
        return {"job": job_json(job)}

    def get(f: Fields) -> Json:
        return {"job": job_json(jobs.find_job(f.required_string("job_id")))}

    def listed(f: Fields) -> Json:
        return {"jobs": [job_json(j) for j in jobs.list_jobs()]}

    def versions(f: Fields) -> Json:
        found = jobs.list_job_versions(f.required_string("job_id"))
        return {"versions": [job_version_json(v) for v in found]}

    def delete(f: Fields) -> Json:
        jobs.delete_job(f.required_string("job_id"))
        return {}

    return [
        api.post("/deployment-jobs/create", create, requires("create", "deployment_job")),
        api.post("/deployment-jobs/update", update, requires("update", "deployment_job", "job_id")),
        api.get("/deployment-jobs/get", get, requires("read", "deployment_job", "job_id")),
        api.get("/deployment-jobs/list", listed, requires("read", "deployment_job")),
        api.get(
            "/deployment-jobs/versions", versions, requires("read", "deployment_job", "job_id")
        ),
        api.post("/deployment-jobs/delete", delete, requires("delete", "deployment_job", "job_id")),
    ]


def run_routes(api: Endpoints, runs: JobRunService) -> list[PolicyRoute]:
    def start(f: Fields) -> Json:
        run = runs.start_run(f.required_string("name"), f.required_string("version"))
        return {"run": run_json(run)}

    def get(f: Fields) -> Json:
        return {"run": run_json(runs.get_run(f.required_string("run_id")))}

    def search(f: Fields) -> Json:
        page = runs.search_runs(
            name=f.string("name"),
            version=f.string("version"),
            job_id=f.string("job_id"),
            states=f.strings("states"),
            max_results=f.int64("max_results") or 100,
            page_token=f.string("page_token"),
        )
        body: Json = {"runs": [run_json(r) for r in page]}
        if page.next_page_token:
            body["next_page_token"] = page.next_page_token
        return body

    def cancel(f: Fields) -> Json:
        run = runs.cancel_run(f.required_string("run_id"), f.string("reason"))
        return {"run": run_json(run)}

    def retry(f: Fields) -> Json:
        return {"run": run_json(runs.retry_run(f.required_string("run_id")))}

    def decide(f: Fields) -> Json:
        approved = f.boolean("approved")
        if approved is None:
            raise InvalidParameter("Missing value for required parameter 'approved' (true/false)")
        run = runs.decide(
            f.required_string("run_id"),
            approved=approved,
            comment=f.string("comment") or "",
            task=f.string("task"),
            via=f.string("via") or "api",
        )
        return {"run": run_json(run)}

    by_run = "run_id"
    return [
        api.post(
            "/deployment-job-runs/start", start, requires("update", "registered_model", "name")
        ),
        api.get("/deployment-job-runs/get", get, requires("read", "deployment_job_run", by_run)),
        api.get("/deployment-job-runs/search", search, requires("read", "deployment_job_run")),
        api.post(
            "/deployment-job-runs/cancel", cancel, requires("update", "deployment_job_run", by_run)
        ),
        api.post(
            "/deployment-job-runs/retry", retry, requires("update", "deployment_job_run", by_run)
        ),
        api.post(
            "/deployment-job-runs/decide", decide, requires("promote", "deployment_job_run", by_run)
        ),
    ]
