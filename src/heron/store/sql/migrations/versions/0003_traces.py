"""GenAI tracing: traces, their tags and metadata, spans, assessments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 15:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _owned_by_trace() -> sa.Column[str]:
    return sa.Column("trace_id", sa.String(length=50), nullable=False)


def _trace_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["trace_id"], ["traces.trace_id"], ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "traces",
        sa.Column("trace_id", sa.String(length=50), nullable=False),
        sa.Column("experiment_id", sa.Integer(), nullable=False),
        sa.Column("client_request_id", sa.String(length=250), nullable=True),
        sa.Column("request_time", sa.BigInteger(), nullable=False),
        sa.Column("execution_duration", sa.BigInteger(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("request_preview", sa.Text(), nullable=True),
        sa.Column("response_preview", sa.Text(), nullable=True),
        sa.Column("input_tokens", sa.BigInteger(), nullable=True),
        sa.Column("output_tokens", sa.BigInteger(), nullable=True),
        sa.Column("total_tokens", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.experiment_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("trace_id"),
    )
    op.create_index(
        "ix_traces_experiment_time", "traces", ["experiment_id", "request_time", "trace_id"]
    )
    for name in ("trace_tags", "trace_metadata"):
        op.create_table(
            name,
            _owned_by_trace(),
            sa.Column("key", sa.String(length=250), nullable=False),
            sa.Column("value", sa.Text(), nullable=False),
            _trace_fk(),
            sa.PrimaryKeyConstraint("trace_id", "key", name=f"pk_{name}"),
            sqlite_with_rowid=False,
        )
    op.create_table(
        "spans",
        _owned_by_trace(),
        sa.Column("span_id", sa.String(length=16), nullable=False),
        sa.Column("parent_span_id", sa.String(length=16), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("span_type", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_message", sa.Text(), nullable=True),
        sa.Column("start_time_ns", sa.BigInteger(), nullable=False),
        sa.Column("end_time_ns", sa.BigInteger(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("events", sa.Text(), nullable=True),
        sa.Column("inputs", sa.Text(), nullable=True),
        sa.Column("outputs", sa.Text(), nullable=True),
        _trace_fk(),
        sa.PrimaryKeyConstraint("trace_id", "span_id", name="pk_spans"),
    )
    op.create_table(
        "assessments",
        sa.Column("assessment_id", sa.String(length=50), nullable=False),
        _owned_by_trace(),
        sa.Column("name", sa.String(length=250), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("span_id", sa.String(length=16), nullable=True),
        sa.Column("source_type", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.String(length=250), nullable=False),
        sa.Column("value", sa.Text(), nullable=True),
        sa.Column("value_text", sa.Text(), nullable=True),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("assessment_metadata", sa.Text(), nullable=True),
        sa.Column("create_time", sa.BigInteger(), nullable=False),
        sa.Column("last_update_time", sa.BigInteger(), nullable=False),
        sa.Column("overrides", sa.String(length=50), nullable=True),
        sa.Column("valid", sa.Boolean(), nullable=False),
        _trace_fk(),
        sa.PrimaryKeyConstraint("assessment_id"),
    )
    op.create_index("ix_assessments_trace", "assessments", ["trace_id", "create_time"])


def downgrade() -> None:
    op.drop_index("ix_assessments_trace", table_name="assessments")
    op.drop_table("assessments")
    op.drop_table("spans")
    op.drop_table("trace_metadata")
    op.drop_table("trace_tags")
    op.drop_index("ix_traces_experiment_time", table_name="traces")
    op.drop_table("traces")
