"""Managed serving: serving_endpoints, their configurations and replicas, inference_records
(the inference tables), serving_stats (per-minute request statistics) and drift_reports.

Revision ID: 0011
Revises: 0007
Create Date: 2026-12-06 06:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "serving_endpoints",
        sa.Column("endpoint_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=63), nullable=False),
        sa.Column("creator", sa.String(length=250), nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("last_updated_timestamp", sa.BigInteger(), nullable=False),
        sa.Column("config_version", sa.Integer(), nullable=False),
        sa.Column("tags", sa.Text(), nullable=False),
        sa.Column("inference_table", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("endpoint_id"),
        sa.UniqueConstraint("name", name="uq_serving_endpoints_name"),
    )
    op.create_table(
        "serving_endpoint_configs",
        sa.Column("endpoint_id", sa.String(length=32), nullable=False),
        sa.Column("config_version", sa.Integer(), nullable=False),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("creation_timestamp", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"], ["serving_endpoints.endpoint_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(
            "endpoint_id", "config_version", name="pk_serving_endpoint_configs"
        ),
    )
    op.create_table(
        "serving_replicas",
        sa.Column("replica_id", sa.String(length=64), nullable=False),
        sa.Column("endpoint_id", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("config_version", sa.Integer(), nullable=False),
        sa.Column("versions", sa.Text(), nullable=False),
        sa.Column("host", sa.String(length=250), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("heartbeat_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"], ["serving_endpoints.endpoint_id"], ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("replica_id"),
    )
    op.create_index("ix_serving_replicas_endpoint", "serving_replicas", ["endpoint_id"])
    op.create_table(
        "inference_records",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("endpoint_id", sa.String(length=32), nullable=False),
        sa.Column("endpoint_name", sa.String(length=63), nullable=False),
        sa.Column("request_date", sa.String(length=10), nullable=False),
        sa.Column("request_time", sa.BigInteger(), nullable=False),
        sa.Column("client_request_id", sa.String(length=250), nullable=True),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("execution_duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("served_entity_id", sa.String(length=250), nullable=False),
        sa.Column("served_version", sa.String(length=32), nullable=False),
        sa.Column("requester", sa.String(length=250), nullable=False),
        sa.Column("request", sa.Text(), nullable=True),
        sa.Column("response", sa.Text(), nullable=True),
        sa.Column("response_chunks", sa.Text(), nullable=True),
        sa.Column("request_artifact", sa.Text(), nullable=True),
        sa.Column("response_artifact", sa.Text(), nullable=True),
        sa.Column("logging_error_codes", sa.Text(), nullable=False),
        sa.Column("trace_id", sa.String(length=50), nullable=True),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_index(
        "ix_inference_records_endpoint_time",
        "inference_records",
        ["endpoint_id", "request_time", "request_id"],
    )
    op.create_index("ix_inference_records_trace", "inference_records", ["trace_id"])
    op.create_table(
        "serving_stats",
        sa.Column("endpoint_id", sa.String(length=32), nullable=False),
        sa.Column("minute", sa.BigInteger(), nullable=False),
        sa.Column("served_entity", sa.String(length=250), nullable=False),
        sa.Column("served_version", sa.String(length=32), nullable=False),
        sa.Column("writer_id", sa.String(length=32), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("errors_4xx", sa.Integer(), nullable=False),
        sa.Column("errors_5xx", sa.Integer(), nullable=False),
        sa.Column("latency_sum_ms", sa.Float(), nullable=False),
        sa.Column("latency_buckets", sa.Text(), nullable=False),
        sa.Column("shadow_requests", sa.Integer(), nullable=False),
        sa.Column("shadow_agreed", sa.Integer(), nullable=False),
        sa.Column("shadow_errors", sa.Integer(), nullable=False),
        sa.Column("shadow_latency_diff_sum_ms", sa.Float(), nullable=False),
        sa.Column("capture_dropped", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "endpoint_id",
            "minute",
            "served_entity",
            "served_version",
            "writer_id",
            name="pk_serving_stats",
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "drift_reports",
        sa.Column("endpoint_id", sa.String(length=32), nullable=False),
        sa.Column("computed_at", sa.BigInteger(), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("window_end", sa.BigInteger(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("reference_rows", sa.Integer(), nullable=False),
        sa.Column("current_rows", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("endpoint_id", "computed_at", name="pk_drift_reports"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("drift_reports")
    op.drop_table("serving_stats")
    op.drop_table("inference_records")
    op.drop_table("serving_replicas")
    op.drop_table("serving_endpoint_configs")
    op.drop_table("serving_endpoints")
