"""The tables of deployment jobs and of the general work queue (on the same metadata as
`tables`; migration 0024): job definitions and their versions, each run of a job for one
model version with its tasks, and the queue rows `heron worker` processes claim."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from heron.store.sql.tables import metadata

deployment_jobs = Table(
    "deployment_jobs",
    metadata,
    Column("job_id", String(36), primary_key=True),
    Column("name", String(256), nullable=False, unique=True),
    Column("description", Text, nullable=True),
    Column("latest_version", Integer, nullable=False),
    Column("created_by", String(256), nullable=True),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
)

deployment_job_versions = Table(
    "deployment_job_versions",
    metadata,
    Column(
        "job_id",
        String(36),
        ForeignKey("deployment_jobs.job_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True),
    Column("spec", Text, nullable=False),  # JSON: the checked tasks
    Column("source", Text, nullable=False),  # the YAML or JSON as its author wrote it
    Column("created_by", String(256), nullable=True),
    Column("creation_timestamp", BigInteger, nullable=False),
)

deployment_job_runs = Table(
    "deployment_job_runs",
    metadata,
    Column("run_id", String(36), primary_key=True),
    Column(
        "job_id",
        String(36),
        ForeignKey("deployment_jobs.job_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("job_version", Integer, nullable=False),
    Column(
        "registered_model_id",
        Integer,
        ForeignKey("registered_models.registered_model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("current_task", String(256), nullable=True),
    Column("started_by", String(256), nullable=True),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Column("finished_at", BigInteger, nullable=True),
    Column("failure_reason", Text, nullable=True),
    Index("ix_deployment_job_runs_version", "registered_model_id", "version", "creation_timestamp"),
    Index("ix_deployment_job_runs_state", "state", "creation_timestamp"),
    Index("ix_deployment_job_runs_job", "job_id", "creation_timestamp"),
)

deployment_task_runs = Table(
    "deployment_task_runs",
    metadata,
    Column(
        "run_id",
        String(36),
        ForeignKey("deployment_job_runs.run_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("task_index", Integer, primary_key=True),
    Column("name", String(256), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),  # times a worker started it
    Column("started_at", BigInteger, nullable=True),
    Column("finished_at", BigInteger, nullable=True),
    Column("metrics", Text, nullable=False),  # JSON object: name -> number
    Column("detail", Text, nullable=False),  # JSON object: what the task decided or did
    Column("logs", Text, nullable=False),
    Column("error", Text, nullable=True),
)

# Background work of any kind (deployment job tasks today): one row per piece of work not
# done yet, claimed with a lease (`leases.LeaseQueue`) by the `heron worker` processes.
work_queue = Table(
    "work_queue",
    metadata,
    Column("item_id", String(36), primary_key=True),
    Column("kind", String(64), nullable=False),
    Column("subject", String(64), nullable=False),  # what it works on (a job run's id)
    Column("payload", Text, nullable=False),  # JSON object
    Column("claims", Integer, nullable=False),  # claims so far: the fencing token
    Column("failures", Integer, nullable=False),  # failed attempts of the current step
    Column("next_attempt_at", BigInteger, nullable=False),  # ms since epoch
    Column("lease_until", BigInteger, nullable=False),  # ms since epoch; 0 when not claimed
    Column("lease_owner", String(128), nullable=True),  # the worker holding it, for people
    Column("created_at", BigInteger, nullable=False),  # ms since epoch
    Index("ix_work_queue_due", "kind", "next_attempt_at"),
    Index("ix_work_queue_subject", "subject"),
)
