"""Deployment jobs: job definitions and their versions, runs of a job for a model version and
their tasks, the general work queue `heron worker` processes claim, and the registered
model's `deployment_job_id`.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 07:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "registered_models", sa.Column("deployment_job_id", sa.String(length=36), nullable=True)
    )
    op.create_table(
        "deployment_jobs",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=True),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("job_id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "deployment_job_versions",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=256), nullable=True),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["job_id"], ["deployment_jobs.job_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("job_id", "version"),
    )
    op.create_table(
        "deployment_job_runs",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("job_version", sa.Integer(), nullable=False),
        sa.Column("registered_model_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("current_task", sa.String(length=256), nullable=True),
        sa.Column("started_by", sa.String(length=256), nullable=True),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["job_id"], ["deployment_jobs.job_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["registered_model_id"],
            ["registered_models.registered_model_id"],
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id"),
    )
    op.create_index(
        "ix_deployment_job_runs_version",
        "deployment_job_runs",
        ["registered_model_id", "version", "creation_timestamp"],
    )
    op.create_index(
        "ix_deployment_job_runs_state", "deployment_job_runs", ["state", "creation_timestamp"]
    )
    op.create_index(
        "ix_deployment_job_runs_job", "deployment_job_runs", ["job_id", "creation_timestamp"]
    )
    op.create_table(
        "deployment_task_runs",
        sa.Column("run_id", sa.String(length=36), nullable=False),
        sa.Column("task_index", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=True),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("metrics", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("logs", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["deployment_job_runs.run_id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "task_index"),
    )
    op.create_table(
        "work_queue",
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
        sa.Column("lease_until", sa.BigInteger(), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_index("ix_work_queue_due", "work_queue", ["kind", "next_attempt_at"])
    op.create_index("ix_work_queue_subject", "work_queue", ["subject"])


def downgrade() -> None:
    op.drop_table("work_queue")
    op.drop_table("deployment_task_runs")
    op.drop_table("deployment_job_runs")
    op.drop_table("deployment_job_versions")
    op.drop_table("deployment_jobs")
    # Plain ALTER (SQLite 3.35+ and PostgreSQL): a batch rebuild of the table would cascade
    # the deletes of its old copy to every version.
    op.execute("ALTER TABLE registered_models DROP COLUMN deployment_job_id")
