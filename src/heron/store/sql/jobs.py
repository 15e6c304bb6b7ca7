"""SqlDeploymentJobStore: deployment job definitions and their versions in SQL."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from heron.clock import now_ms
from heron.entities.deployment_jobs import DeploymentJob, DeploymentJobVersion, TaskSpec
from heron.errors import AlreadyExists, InvalidParameter, NotFound
from heron.store.sql.database import Database
from heron.store.sql.jobs_rows import job_of, jobs, rm, spec_json, specs_of, versions
from heron.store.sql.registry_rows import model_not_found

_LATEST = select(jobs, versions.c.spec, versions.c.source).join(
    versions, (versions.c.job_id == jobs.c.job_id) & (versions.c.version == jobs.c.latest_version)
)


class SqlDeploymentJobStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def create_job(
        self,
        name: str,
        tasks: Sequence[TaskSpec],
        source: str,
        *,
        description: str | None,
        actor: str | None,
    ) -> DeploymentJob:
        job_id = str(uuid.uuid4())

        def create(conn: Connection) -> DeploymentJob:
            now = now_ms()
            try:
                with conn.begin_nested():
                    conn.execute(
                        insert(jobs).values(
                            job_id=job_id,
                            name=name,
                            description=description,
                            latest_version=1,
                            created_by=actor,
                            creation_timestamp=now,
                            last_updated_timestamp=now,
                        )
                    )
            except IntegrityError:
                raise AlreadyExists(f"Deployment job {name!r} already exists") from None
            _add_version(conn, job_id, 1, tasks, source, actor, now)
            return _load(conn, job_id)

        return self._db.write(create)

    def get_job(self, job_id: str) -> DeploymentJob:
        with self._db.read() as conn:
            return _load(conn, job_id)

    def get_job_by_name(self, name: str) -> DeploymentJob:
        with self._db.read() as conn:
            row = conn.execute(_LATEST.where(jobs.c.name == name)).first()
        if row is None:
            raise NotFound(f"Deployment job {name!r} does not exist")
        return job_of(row, row.spec, row.source)

    def list_jobs(self) -> list[DeploymentJob]:
        with self._db.read() as conn:
            rows = conn.execute(_LATEST.order_by(jobs.c.name)).all()
        return [job_of(row, row.spec, row.source) for row in rows]

    def update_job(
        self,
        job_id: str,
        tasks: Sequence[TaskSpec],
        source: str,
        *,
        description: str | None,
        actor: str | None,
    ) -> DeploymentJob:
        def change(conn: Connection) -> DeploymentJob:
            current = _load(conn, job_id)
            now = now_ms()
            version = current.version + 1
            _add_version(conn, job_id, version, tasks, source, actor, now)
            values: dict[str, object] = {"latest_version": version, "last_updated_timestamp": now}
            if description is not None:
                values["description"] = description
            conn.execute(update(jobs).where(jobs.c.job_id == job_id).values(**values))
            return _load(conn, job_id)

        return self._db.write(change)

    def list_job_versions(self, job_id: str) -> list[DeploymentJobVersion]:
        with self._db.read() as conn:
            _load(conn, job_id)
            rows = conn.execute(
                select(versions)
                .where(versions.c.job_id == job_id)
                .order_by(versions.c.version.desc())
            ).all()
        return [
            DeploymentJobVersion(
                job_id=r.job_id,
                version=r.version,
                tasks=specs_of(r.spec),
                source=r.source,
                creation_timestamp=r.creation_timestamp,
                created_by=r.created_by,
            )
            for r in rows
        ]

    def get_job_version(self, job_id: str, version: int) -> DeploymentJobVersion:
        with self._db.read() as conn:
            r = conn.execute(
                select(versions).where(versions.c.job_id == job_id, versions.c.version == version)
            ).first()
        if r is None:
            raise NotFound(f"Deployment job {job_id!r} has no version {version}")
        return DeploymentJobVersion(
            job_id=r.job_id,
            version=r.version,
            tasks=specs_of(r.spec),
            source=r.source,
            creation_timestamp=r.creation_timestamp,
            created_by=r.created_by,
        )

    def delete_job(self, job_id: str) -> None:
        def remove(conn: Connection) -> None:
            _load(conn, job_id)
            users = (
                conn.execute(select(rm.c.name).where(rm.c.deployment_job_id == job_id).limit(5))
                .scalars()
                .all()
            )
            if users:
                raise InvalidParameter(
                    f"Deployment job {job_id!r} is attached to registered model(s) "
                    f"{', '.join(users)}: detach it first (set their deployment_job_id to '')"
                )
            conn.execute(delete(jobs).where(jobs.c.job_id == job_id))

        self._db.write(remove)

    def attached_job(self, model_name: str) -> DeploymentJob | None:
        with self._db.read() as conn:
            row = conn.execute(
                select(rm.c.deployment_job_id).where(rm.c.name == model_name)
            ).first()
            if row is None:
                raise model_not_found(model_name)
            if row.deployment_job_id is None:
                return None
            return _load(conn, row.deployment_job_id)


def _add_version(
    conn: Connection,
    job_id: str,
    version: int,
    tasks: Sequence[TaskSpec],
    source: str,
    actor: str | None,
    now: int,
) -> None:
    conn.execute(
        insert(versions).values(
            job_id=job_id,
            version=version,
            spec=spec_json(tasks),
            source=source,
            created_by=actor,
            creation_timestamp=now,
        )
    )


def _load(conn: Connection, job_id: str) -> DeploymentJob:
    row = conn.execute(_LATEST.where(jobs.c.job_id == job_id)).first()
    if row is None:
        raise NotFound(f"Deployment job {job_id!r} does not exist")
    return job_of(row, row.spec, row.source)


def require_job(conn: Connection, job_id: str) -> None:
    """For the registry: a model may only name a job that exists."""
    found = conn.execute(select(jobs.c.job_id).where(jobs.c.job_id == job_id)).first()
    if found is None:
        raise NotFound(f"Deployment job {job_id!r} does not exist")
