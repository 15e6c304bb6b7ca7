"""Deployment jobs on `HeronClient`: define a job, attach it (`update_registered_model(...,
deployment_job_id=)`), follow its runs, approve or reject, cancel, retry."""

from __future__ import annotations

from collections.abc import Sequence

from heron.client.backend import Backend
from heron.entities import Page
from heron.entities.deployment_jobs import DeploymentJob, DeploymentJobVersion, JobRun


class DeploymentJobMethods:
    """Mixed into `HeronClient`; `backend` is the client's backend.

    Example:
        >>> job = client.create_deployment_job("fraud-release", open("release.yaml").read())
        >>> client.update_registered_model("fraud", deployment_job_id=job.job_id)
        >>> run = client.get_deployment_job_run_of("fraud", "3")
        >>> client.approve_deployment_job_run(run.run_id, comment="metrics hold up")
    """

    @property
    def backend(self) -> Backend:
        raise NotImplementedError  # pragma: no cover - HeronClient provides it

    def create_deployment_job(
        self, name: str, definition: object, *, description: str | None = None
    ) -> DeploymentJob:
        """A job from YAML or JSON text, a list of task mappings, or
        `heron.deployment_jobs.job_definition([...])`. Raises InvalidParameter naming the
        task and field at fault."""
        return self.backend.deployment_jobs.create_job(name, definition, description=description)

    def update_deployment_job(
        self, job_id: str, definition: object, *, description: str | None = None
    ) -> DeploymentJob:
        """The job's next version (runs already going keep theirs)."""
        return self.backend.deployment_jobs.update_job(job_id, definition, description=description)

    def get_deployment_job(self, id_or_name: str) -> DeploymentJob:
        return self.backend.deployment_jobs.find_job(id_or_name)

    def list_deployment_jobs(self) -> list[DeploymentJob]:
        return self.backend.deployment_jobs.list_jobs()

    def list_deployment_job_versions(self, job_id: str) -> list[DeploymentJobVersion]:
        return self.backend.deployment_jobs.list_job_versions(job_id)

    def start_deployment_job_run(self, name: str, version: str) -> JobRun:
        """Runs the model's job for `version` now (one run of a version at a time)."""
        return self.backend.job_runs.start_run(name, str(version))

    def get_deployment_job_run(self, run_id: str) -> JobRun:
        return self.backend.job_runs.get_run(run_id)

    def get_deployment_job_run_of(self, name: str, version: str) -> JobRun | None:
        """The version's newest run, or None."""
        return self.backend.job_runs.latest_run(name, str(version))

    def search_deployment_job_runs(
        self,
        *,
        name: str | None = None,
        version: str | None = None,
        states: Sequence[str] = (),
        max_results: int = 100,
        page_token: str | None = None,
    ) -> Page[JobRun]:
        return self.backend.job_runs.search_runs(
            name=name, version=version, states=states, max_results=max_results,
            page_token=page_token,
        )  # fmt: skip

    def approve_deployment_job_run(
        self, run_id: str, *, comment: str = "", task: str | None = None
    ) -> JobRun:
        """Approves the approval the run waits on (needs PROMOTE on the model)."""
        return self.backend.job_runs.decide(run_id, approved=True, comment=comment, task=task)

    def reject_deployment_job_run(
        self, run_id: str, *, comment: str, task: str | None = None
    ) -> JobRun:
        """Rejects it: the run fails with the comment as its reason."""
        return self.backend.job_runs.decide(run_id, approved=False, comment=comment, task=task)

    def cancel_deployment_job_run(self, run_id: str, reason: str | None = None) -> JobRun:
        return self.backend.job_runs.cancel_run(run_id, reason)

    def retry_deployment_job_run(self, run_id: str) -> JobRun:
        """Runs a failed or cancelled run again from the task that stopped it."""
        return self.backend.job_runs.retry_run(run_id)
