"""The schema of managed serving: endpoints, their configurations and replicas, the inference
tables and the per-minute request statistics (SQLAlchemy Core, on the one `metadata`)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from heron.store.sql.tables import metadata

serving_endpoints = Table(
    "serving_endpoints",
    metadata,
    Column("endpoint_id", String(32), primary_key=True),
    Column("name", String(63), nullable=False),
    Column("creator", Text, nullable=False),  # the caller's name (0019)
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Column("config_version", Integer, nullable=False),  # the newest configuration
    Column("tags", Text, nullable=False),  # JSON object
    Column("inference_table", Text, nullable=False),  # JSON object
    UniqueConstraint("name", name="uq_serving_endpoints_name"),
)

serving_endpoint_configs = Table(
    "serving_endpoint_configs",
    metadata,
    Column(
        "endpoint_id",
        String(32),
        ForeignKey("serving_endpoints.endpoint_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("config_version", Integer, nullable=False),
    Column("config", Text, nullable=False),  # JSON: served entities, routes, shadow routes
    Column("creation_timestamp", BigInteger, nullable=False),
    PrimaryKeyConstraint("endpoint_id", "config_version", name="pk_serving_endpoint_configs"),
)

serving_replicas = Table(
    "serving_replicas",
    metadata,
    Column("replica_id", String(64), primary_key=True),
    Column(
        "endpoint_id",
        String(32),
        ForeignKey("serving_endpoints.endpoint_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("url", String(500), nullable=False),
    Column("token", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("config_version", Integer, nullable=False),
    Column("versions", Text, nullable=False),  # JSON object: served entity -> model version
    Column("host", String(250), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("message", Text, nullable=False),
    Column("started_at", BigInteger, nullable=False),
    Column("heartbeat_at", BigInteger, nullable=False),
    Index("ix_serving_replicas_endpoint", "endpoint_id"),
)

inference_records = Table(
    "inference_records",
    metadata,
    Column("request_id", String(36), primary_key=True),
    Column("endpoint_id", String(32), nullable=False),  # kept after the endpoint is deleted
    Column("endpoint_name", String(63), nullable=False),
    Column("request_date", String(10), nullable=False),  # YYYY-MM-DD, UTC
    Column("request_time", BigInteger, nullable=False),  # ms since epoch
    Column("client_request_id", String(250), nullable=True),
    Column("status_code", Integer, nullable=False),
    Column("execution_duration_ms", BigInteger, nullable=False),
    Column("served_entity_id", String(250), nullable=False),
    Column("served_version", String(32), nullable=False),
    Column("requester", Text, nullable=False),  # the caller's name (0019)
    Column("request", Text, nullable=True),
    Column("response", Text, nullable=True),
    Column("response_chunks", Text, nullable=True),  # JSON array, for a streamed answer
    Column("request_artifact", Text, nullable=True),
    Column("response_artifact", Text, nullable=True),
    Column("logging_error_codes", Text, nullable=False),  # JSON array
    Column("trace_id", String(50), nullable=True),
    Index("ix_inference_records_endpoint_time", "endpoint_id", "request_time", "request_id"),
    Index("ix_inference_records_trace", "trace_id"),
)

# One row per minute, endpoint, served entity and version, and writing process: each tracking
# server process adds up its own requests and writes its row whole (no two writers share one).
serving_stats = Table(
    "serving_stats",
    metadata,
    Column("endpoint_id", String(32), nullable=False),
    Column("minute", BigInteger, nullable=False),  # ms since epoch, a multiple of 60,000
    Column("served_entity", String(250), nullable=False),
    Column("served_version", String(32), nullable=False),
    Column("writer_id", String(32), nullable=False),
    Column("requests", Integer, nullable=False),
    Column("errors_4xx", Integer, nullable=False),
    Column("errors_5xx", Integer, nullable=False),
    Column("latency_sum_ms", Float, nullable=False),
    Column("latency_buckets", Text, nullable=False),  # JSON array of counts
    Column("shadow_requests", Integer, nullable=False),
    Column("shadow_agreed", Integer, nullable=False),
    Column("shadow_errors", Integer, nullable=False),
    Column("shadow_latency_diff_sum_ms", Float, nullable=False),
    Column("capture_dropped", Integer, nullable=False),
    PrimaryKeyConstraint(
        "endpoint_id",
        "minute",
        "served_entity",
        "served_version",
        "writer_id",
        name="pk_serving_stats",
    ),
    sqlite_with_rowid=False,
)

# An input drift report of an endpoint: each feature's test against the reference data.
drift_reports = Table(
    "drift_reports",
    metadata,
    Column("endpoint_id", String(32), nullable=False),
    Column("computed_at", BigInteger, nullable=False),  # ms since epoch
    Column("window_start", BigInteger, nullable=False),
    Column("window_end", BigInteger, nullable=False),
    Column("reference", Text, nullable=False),  # the reference data's URI
    Column("reference_rows", Integer, nullable=False),
    Column("current_rows", Integer, nullable=False),
    Column("method", String(32), nullable=False),  # "auto" or "psi"
    Column("features", Text, nullable=False),  # JSON array, one object a feature
    Column("message", Text, nullable=False),
    PrimaryKeyConstraint("endpoint_id", "computed_at", name="pk_drift_reports"),
    sqlite_with_rowid=False,
)
