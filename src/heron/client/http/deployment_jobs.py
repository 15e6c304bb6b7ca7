"""Deployment jobs over HTTP: Heron's /api/2.0/heron/deployment-jobs and
/deployment-job-runs routes, behind the methods of `DeploymentJobService` and `JobRunService`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from heron.client.http.transport import Transport
from heron.entities import Page
from heron.entities.deployment_jobs import (
    DeploymentJob,
    DeploymentJobVersion,
    JobRun,
    RunState,
    TaskKind,
    TaskRun,
    TaskSpec,
    TaskState,
)
from heron.mlflow_json import Json

JOBS = "/api/2.0/heron/deployment-jobs"
RUNS = "/api/2.0/heron/deployment-job-runs"


def _spec(t: Json) -> TaskSpec:
    return TaskSpec(
        name=t["name"], kind=TaskKind(t["type"]), params=t.get("params") or {},
        retries=int(t.get("retries") or 0),
    )  # fmt: skip


def job_in(j: Json) -> DeploymentJob:
    return DeploymentJob(
        job_id=j["job_id"], name=j["name"], version=int(j["version"]),
        tasks=[_spec(t) for t in j.get("tasks", ())], source=j.get("source") or "",
        creation_timestamp=int(j["creation_timestamp"]),
        last_updated_timestamp=int(j["last_updated_timestamp"]),
        created_by=j.get("created_by"), description=j.get("description"),
    )  # fmt: skip


def job_version_in(v: Json) -> DeploymentJobVersion:
    return DeploymentJobVersion(
        job_id=v["job_id"], version=int(v["version"]),
        tasks=[_spec(t) for t in v.get("tasks", ())], source=v.get("source") or "",
        creation_timestamp=int(v["creation_timestamp"]), created_by=v.get("created_by"),
    )  # fmt: skip


def _task(t: Json) -> TaskRun:
    return TaskRun(
        index=int(t["index"]), name=t["name"], kind=TaskKind(t["type"]),
        state=TaskState(t["state"]), attempts=int(t.get("attempts") or 0),
        started_at=t.get("started_at"), finished_at=t.get("finished_at"),
        metrics=t.get("metrics") or {}, detail=t.get("detail") or {}, logs=t.get("logs") or "",
        error=t.get("error"),
    )  # fmt: skip


def run_in(r: Json) -> JobRun:
    return JobRun(
        run_id=r["run_id"], job_id=r["job_id"], job_name=r["job_name"],
        job_version=int(r["job_version"]), name=r["name"], version=str(r["version"]),
        state=RunState(r["state"]), creation_timestamp=int(r["creation_timestamp"]),
        last_updated_timestamp=int(r["last_updated_timestamp"]),
        tasks=[_task(t) for t in r.get("tasks", ())], current_task=r.get("current_task"),
        started_by=r.get("started_by"), finished_at=r.get("finished_at"),
        failure_reason=r.get("failure_reason"),
    )  # fmt: skip


class HttpDeploymentJobs:
    """The `DeploymentJobApi` methods over a transport."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create_job(
        self, name: str, definition: object, *, description: str | None = None
    ) -> DeploymentJob:
        body = {"name": name, "definition": definition, "description": description}
        return job_in(self._t.post(f"{JOBS}/create", body)["job"])

    def update_job(
        self, job_id: str, definition: object, *, description: str | None = None
    ) -> DeploymentJob:
        body = {"job_id": job_id, "definition": definition, "description": description}
        return job_in(self._t.post(f"{JOBS}/update", body)["job"])

    def find_job(self, id_or_name: str) -> DeploymentJob:
        return job_in(self._t.get(f"{JOBS}/get", {"job_id": id_or_name})["job"])

    def list_jobs(self) -> list[DeploymentJob]:
        return [job_in(j) for j in self._t.get(f"{JOBS}/list", {}).get("jobs", ())]

    def list_job_versions(self, job_id: str) -> list[DeploymentJobVersion]:
        found = self._t.get(f"{JOBS}/versions", {"job_id": job_id}).get("versions", ())
        return [job_version_in(v) for v in found]

    def delete_job(self, job_id: str) -> None:
        self._t.post(f"{JOBS}/delete", {"job_id": job_id})


class HttpJobRuns:
    """The `JobRunApi` methods over a transport."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def start_run(self, name: str, version: str) -> JobRun:
        return run_in(self._t.post(f"{RUNS}/start", {"name": name, "version": version})["run"])

    def get_run(self, run_id: str) -> JobRun:
        return run_in(self._t.get(f"{RUNS}/get", {"run_id": run_id})["run"])

    def latest_run(self, name: str, version: str) -> JobRun | None:
        page = self.search_runs(name=name, version=version, max_results=1)
        return page.items[0] if page.items else None

    def search_runs(
        self,
        *,
        name: str | None = None,
        version: str | None = None,
        job_id: str | None = None,
        states: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[JobRun]:
        query: dict[str, Any] = {
            "name": name, "version": version, "job_id": job_id, "states": list(states) or None,
            "max_results": max_results, "page_token": page_token,
        }  # fmt: skip
        body = self._t.get(f"{RUNS}/search", query)
        return Page([run_in(r) for r in body.get("runs", ())], body.get("next_page_token"))

    def cancel_run(self, run_id: str, reason: str | None = None) -> JobRun:
        return run_in(self._t.post(f"{RUNS}/cancel", {"run_id": run_id, "reason": reason})["run"])

    def retry_run(self, run_id: str) -> JobRun:
        return run_in(self._t.post(f"{RUNS}/retry", {"run_id": run_id})["run"])

    def decide(
        self,
        run_id: str,
        *,
        approved: bool,
        comment: str = "",
        task: str | None = None,
        via: str = "api",
    ) -> JobRun:
        body = {"run_id": run_id, "approved": approved, "comment": comment, "task": task}
        return run_in(self._t.post(f"{RUNS}/decide", {**body, "via": via})["run"])
