"""DeploymentJobService: deployment job definitions, each an ordered list of tasks kept with
versions of its own (`heron.services.deployment_job_specs` reads and checks them).

A registered model names the job its new versions run (`deployment_job_id`, set through the
registry); runs are `JobRunService`'s."""

from __future__ import annotations

import re

from heron.entities.deployment_jobs import DeploymentJob, DeploymentJobVersion
from heron.errors import InvalidParameter, NotFound
from heron.services import validation as v
from heron.services.access import Authorizer, authorize
from heron.services.changes import changed, changed_fields, noting
from heron.services.deployment_job_specs import CustomTaskPolicy, read_definition
from heron.store.deployment_jobs import DeploymentJobStore

MAX_DESCRIPTION = 5000
MAX_NAME = 256
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,255}$")


def check_job_name(name: object) -> str:
    text = v.check_string("name", name)
    if not _NAME.match(text):
        raise InvalidParameter(
            f"Invalid deployment job name {text[:100]!r}: use up to 256 letters, digits, dots, "
            "dashes and underscores, starting with a letter or digit"
        )
    return text


class DeploymentJobService:
    def __init__(
        self, store: DeploymentJobStore, authorizer: Authorizer, custom: CustomTaskPolicy
    ) -> None:
        self._store = store
        self._authorizer = authorizer
        self._custom = custom

    @property
    def custom_tasks(self) -> CustomTaskPolicy:
        """What custom tasks may run here (the administrator's lists)."""
        return self._custom

    def create_job(
        self, name: str, definition: object, *, description: str | None = None
    ) -> DeploymentJob:
        """A new job from its definition: YAML or JSON text, or the mapping or list of tasks
        it holds (see `deployment_job_specs`). Raises InvalidParameter, AlreadyExists."""
        check_job_name(name)
        actor = authorize(self._authorizer, "create", "deployment_job", name).name
        checked = read_definition(definition, self._custom)
        made = self._store.create_job(
            name,
            checked.tasks,
            checked.source,
            description=_description(description, checked.description),
            actor=actor,
        )
        changed("deployment_job", made.job_id, after=_audited(made))
        return made

    def update_job(
        self, job_id: str, definition: object, *, description: str | None = None
    ) -> DeploymentJob:
        """The job's next version. Runs already going keep the version they started with."""
        job_id = _job_id(job_id)
        actor = authorize(self._authorizer, "update", "deployment_job", job_id).name
        checked = read_definition(definition, self._custom)
        before = self._store.get_job(job_id) if noting() else None
        updated = self._store.update_job(
            job_id,
            checked.tasks,
            checked.source,
            description=_description(description, checked.description),
            actor=actor,
        )
        if before is not None:
            changed_fields("deployment_job", job_id, _audited(before), _audited(updated))
        return updated

    def get_job(self, job_id: str) -> DeploymentJob:
        job_id = _job_id(job_id)
        authorize(self._authorizer, "read", "deployment_job", job_id)
        return self._store.get_job(job_id)

    def find_job(self, id_or_name: str) -> DeploymentJob:
        """A job by its id, else by its name. Raises NotFound."""
        v.check_string("job", id_or_name)
        authorize(self._authorizer, "read", "deployment_job", id_or_name)
        try:
            return self._store.get_job(id_or_name)
        except NotFound:
            return self._store.get_job_by_name(id_or_name)

    def list_jobs(self) -> list[DeploymentJob]:
        authorize(self._authorizer, "read", "deployment_job", "")
        return self._store.list_jobs()

    def list_job_versions(self, job_id: str) -> list[DeploymentJobVersion]:
        job_id = _job_id(job_id)
        authorize(self._authorizer, "read", "deployment_job", job_id)
        return self._store.list_job_versions(job_id)

    def delete_job(self, job_id: str) -> None:
        job_id = _job_id(job_id)
        authorize(self._authorizer, "delete", "deployment_job", job_id)
        before = self._store.get_job(job_id) if noting() else None
        self._store.delete_job(job_id)
        if before is not None:
            changed("deployment_job", job_id, before=_audited(before))

    def attached_job(self, model_name: str) -> DeploymentJob | None:
        """The job a registered model's new versions run, if any."""
        authorize(self._authorizer, "read", "registered_model", model_name)
        return self._store.attached_job(model_name)


def _audited(job: DeploymentJob) -> dict[str, object]:
    """A job's fields for the audit log: its version, tasks (as its author wrote them) and
    description."""
    return {
        "name": job.name,
        "version": job.version,
        "source": job.source,
        "description": job.description,
    }


def _job_id(job_id: object) -> str:
    text = v.check_string("job_id", job_id)
    if not text:
        raise InvalidParameter("Missing value for required parameter 'job_id'")
    return v.check_length("job_id", text, 36)


def _description(given: str | None, in_definition: str | None) -> str | None:
    text = given if given is not None else in_definition
    if text is None:
        return None
    return v.check_length("description", v.check_string("description", text), MAX_DESCRIPTION)
