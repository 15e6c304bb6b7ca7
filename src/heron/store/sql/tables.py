"""The schema, in SQLAlchemy Core. Alembic migrations (migrations/) create it; keep both in step."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

experiments = Table(
    "experiments",
    metadata,
    Column("experiment_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(500), nullable=False),
    Column("artifact_location", Text, nullable=False),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    # The workspace it belongs to (`workspaces.name`; names are unique within one).
    Column("workspace", String(63), nullable=False, server_default="default"),
    UniqueConstraint("workspace", "name", name="uq_experiments_workspace_name"),
    Index("ix_experiments_workspace", "workspace"),
)

experiment_tags = Table(
    "experiment_tags",
    metadata,
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("experiment_id", "key", name="pk_experiment_tags"),
    sqlite_with_rowid=False,  # one B-tree, clustered by the key
)

runs = Table(
    "runs",
    metadata,
    Column("run_uuid", String(32), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(250), nullable=False),
    Column("user_id", String(256), nullable=False),
    Column("status", String(20), nullable=False),
    Column("start_time", BigInteger, nullable=False),
    Column("end_time", BigInteger, nullable=True),
    Column("artifact_uri", Text, nullable=False),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("deleted_time", BigInteger, nullable=True),
    Index("ix_runs_experiment_start", "experiment_id", "start_time", "run_uuid"),
)

params = Table(
    "params",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("run_uuid", "key", name="pk_params"),
    sqlite_with_rowid=False,  # one B-tree, clustered by the key
)

tags = Table(
    "tags",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("run_uuid", "key", name="pk_tags"),
    sqlite_with_rowid=False,  # one B-tree, clustered by the key
)

# Every point ever logged. NaN is stored as is_nan=true with value 0 (SQLite turns a NaN
# REAL into NULL); +-inf are stored as such. An identical point logged twice is kept once,
# so a client's retry never duplicates history.
metrics = Table(
    "metrics",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("value", Float(precision=53), nullable=False),
    Column("is_nan", Boolean, nullable=False),
    PrimaryKeyConstraint(
        "run_uuid", "key", "step", "timestamp", "value", "is_nan", name="pk_metrics"
    ),
    sqlite_with_rowid=False,  # one B-tree, clustered by the key
)

# The point of each (run, key) with the highest (step, timestamp): what runs show and search.
# experiment_id repeats the run's (a run never changes experiment) so that one index gives an
# experiment's runs in the order of one metric's value: sorting or filtering by a metric reads
# only the rows it returns, not every run of the experiment (migration 0004).
latest_metrics = Table(
    "latest_metrics",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("key", String(250), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("value", Float(precision=53), nullable=False),
    Column("is_nan", Boolean, nullable=False),
    Column("experiment_id", Integer, nullable=False),
    # The point as MLflow's messages write it (run_writes.point_json): run reads join a run's
    # points into its JSON as they are (migration 0007).
    Column("point_json", Text, nullable=False),
    PrimaryKeyConstraint("run_uuid", "key", name="pk_latest_metrics"),
    Index(
        "ix_latest_metrics_experiment_key_value",
        "experiment_id",
        "key",
        "is_nan",
        "value",
        "run_uuid",
    ),
    sqlite_with_rowid=False,  # one B-tree, clustered by the key
)

datasets = Table(
    "datasets",
    metadata,
    Column("dataset_uuid", String(32), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(500), nullable=False),
    Column("digest", String(36), nullable=False),
    Column("source_type", String(36), nullable=False),
    Column("source", Text, nullable=False),
    Column("schema", Text, nullable=True),
    Column("profile", Text, nullable=True),
    UniqueConstraint("experiment_id", "name", "digest", name="uq_datasets_experiment_name_digest"),
)

run_inputs = Table(
    "run_inputs",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column(
        "dataset_uuid",
        String(32),
        ForeignKey("datasets.dataset_uuid", ondelete="CASCADE"),
        nullable=False,
    ),
    PrimaryKeyConstraint("run_uuid", "dataset_uuid", name="pk_run_inputs"),
)

run_input_tags = Table(
    "run_input_tags",
    metadata,
    Column("run_uuid", String(32), nullable=False),
    Column("dataset_uuid", String(32), nullable=False),
    Column("key", String(255), nullable=False),
    Column("value", String(500), nullable=False),
    PrimaryKeyConstraint("run_uuid", "dataset_uuid", "key", name="pk_run_input_tags"),
)

# --- Logged models (MLflow 3's LoggedModel): a model that lives across runs -----------------

logged_models = Table(
    "logged_models",
    metadata,
    Column("model_id", String(36), primary_key=True),  # "m-" + 32 hex digits
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(500), nullable=False),
    Column("artifact_location", Text, nullable=False),
    Column("creation_timestamp_ms", BigInteger, nullable=False),
    Column("last_updated_timestamp_ms", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),  # PENDING, READY, UPLOAD_FAILED
    Column("status_message", Text, nullable=True),
    Column("lifecycle_stage", String(32), nullable=False),
    Column("model_type", String(500), nullable=True),
    Column("source_run_id", String(32), nullable=True),  # no FK: the run may be purged first
    Index("ix_logged_models_experiment_created", "experiment_id", "creation_timestamp_ms"),
    Index("ix_logged_models_source_run", "source_run_id"),
)

logged_model_params = Table(
    "logged_model_params",
    metadata,
    Column(
        "model_id",
        String(36),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "key", name="pk_logged_model_params"),
    sqlite_with_rowid=False,
)

logged_model_tags = Table(
    "logged_model_tags",
    metadata,
    Column(
        "model_id",
        String(36),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("model_id", "key", name="pk_logged_model_tags"),
    sqlite_with_rowid=False,
)

# A metric logged with model_id=…: it is also an ordinary run metric (in `metrics`); this row
# ties it to the model, with the dataset it was computed on ("" when none).
logged_model_metrics = Table(
    "logged_model_metrics",
    metadata,
    Column(
        "model_id",
        String(36),
        ForeignKey("logged_models.model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("dataset_name", String(500), nullable=False),
    Column("dataset_digest", String(36), nullable=False),
    Column("run_uuid", String(32), nullable=False),
    Column("step", BigInteger, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("value", Float(precision=53), nullable=False),
    Column("is_nan", Boolean, nullable=False),
    PrimaryKeyConstraint(
        "model_id",
        "key",
        "dataset_name",
        "dataset_digest",
        "run_uuid",
        "step",
        "timestamp",
        name="pk_logged_model_metrics",
    ),
    sqlite_with_rowid=False,
)

# runs/outputs: the models a run produced (model_id, step); runs/log-inputs: models it used.
run_model_outputs = Table(
    "run_model_outputs",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("model_id", String(36), nullable=False),
    Column("step", BigInteger, nullable=False),
    PrimaryKeyConstraint("run_uuid", "model_id", name="pk_run_model_outputs"),
    sqlite_with_rowid=False,
)

run_model_inputs = Table(
    "run_model_inputs",
    metadata,
    Column("run_uuid", String(32), ForeignKey("runs.run_uuid", ondelete="CASCADE"), nullable=False),
    Column("model_id", String(36), nullable=False),
    PrimaryKeyConstraint("run_uuid", "model_id", name="pk_run_model_inputs"),
    sqlite_with_rowid=False,
)

# --- Model registry ----------------------------------------------------------------------------
# A registered model has a surrogate id, so a rename touches one row. `last_version` hands out
# version numbers: bumped in the transaction that inserts the version, so concurrent
# registrations get distinct, gapless numbers, and a deleted version's number is never reused.

registered_models = Table(
    "registered_models",
    metadata,
    Column("registered_model_id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(256), nullable=False),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Column("user_id", String(256), nullable=True),
    Column("description", Text, nullable=True),
    Column("last_version", Integer, nullable=False),
    # The deployment job new versions run (`deployment_jobs.job_id`; checked by the store, not
    # a foreign key: SQLite adds a column with one only by rebuilding the table).
    Column("deployment_job_id", String(36), nullable=True),
    Column("workspace", String(63), nullable=False, server_default="default"),
    UniqueConstraint("workspace", "name", name="uq_registered_models_workspace_name"),
    Index("ix_registered_models_last_updated", "last_updated_timestamp"),
    Index("ix_registered_models_workspace", "workspace"),
)

registered_model_tags = Table(
    "registered_model_tags",
    metadata,
    Column(
        "registered_model_id",
        Integer,
        ForeignKey("registered_models.registered_model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("registered_model_id", "key", name="pk_registered_model_tags"),
    sqlite_with_rowid=False,
)

model_versions = Table(
    "model_versions",
    metadata,
    Column(
        "registered_model_id",
        Integer,
        ForeignKey("registered_models.registered_model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version", Integer, nullable=False),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    Column("user_id", String(256), nullable=True),
    Column("current_stage", String(20), nullable=False),  # legacy stages: None, Staging, ...
    Column("description", Text, nullable=True),
    Column("source", Text, nullable=False),  # as the client gave it (runs:/, models:/m-…, s3://)
    Column("storage_location", Text, nullable=False),  # where the files are: get-download-uri
    Column("run_id", String(32), nullable=True),
    Column("run_link", Text, nullable=True),
    Column("model_id", String(36), nullable=True),  # the LoggedModel, when there is one
    Column("status", String(32), nullable=False),  # PENDING_REGISTRATION, READY, ...
    Column("status_message", Text, nullable=True),
    PrimaryKeyConstraint("registered_model_id", "version", name="pk_model_versions"),
    Index("ix_model_versions_run_id", "run_id"),
    Index("ix_model_versions_model_id", "model_id"),
    # version searches order by it first (MLflow's default order): a page stops early
    Index("ix_model_versions_last_updated", "last_updated_timestamp"),
    # the newest version in each stage of a page of models (latest_versions), from the index
    Index("ix_model_versions_stage", "registered_model_id", "current_stage", "version"),
)

model_version_tags = Table(
    "model_version_tags",
    metadata,
    Column("registered_model_id", Integer, nullable=False),
    Column("version", Integer, nullable=False),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    ForeignKeyConstraint(
        ["registered_model_id", "version"],
        ["model_versions.registered_model_id", "model_versions.version"],
        ondelete="CASCADE",
        name="fk_model_version_tags_version",
    ),
    PrimaryKeyConstraint("registered_model_id", "version", "key", name="pk_model_version_tags"),
    sqlite_with_rowid=False,
)

registered_model_aliases = Table(
    "registered_model_aliases",
    metadata,
    Column("registered_model_id", Integer, nullable=False),
    Column("alias", String(256), nullable=False),
    Column("version", Integer, nullable=False),
    ForeignKeyConstraint(
        ["registered_model_id", "version"],
        ["model_versions.registered_model_id", "model_versions.version"],
        ondelete="CASCADE",
        name="fk_registered_model_aliases_version",
    ),
    PrimaryKeyConstraint("registered_model_id", "alias", name="pk_registered_model_aliases"),
    sqlite_with_rowid=False,
)

# Everything that happened to a model version, in time order: created, alias moved, tag set,
# stage changed, comments; later approvals and deployments. Append-only.
model_version_events = Table(
    "model_version_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column(
        "registered_model_id",
        Integer,
        ForeignKey("registered_models.registered_model_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("version", Integer, nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("user_id", String(256), nullable=True),
    Column("kind", String(64), nullable=False),
    Column("detail", Text, nullable=False),  # JSON object: what changed
    Index("ix_model_version_events_version", "registered_model_id", "version", "event_id"),
)

# Namespaces in the Unity Catalog style: a registered model named `catalog.schema.model` lives
# in that schema, which must exist; plain names live in the default namespace (main.default).
# A catalog or schema is deleted only when it is empty. Owners are kept for the security work.
registry_catalogs = Table(
    "registry_catalogs",
    metadata,
    Column("name", String(255), primary_key=True),
    Column("owner", String(256), nullable=True),
    Column("comment", Text, nullable=True),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
)

registry_schemas = Table(
    "registry_schemas",
    metadata,
    Column(
        "catalog_name",
        String(255),
        ForeignKey("registry_catalogs.name", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column("name", String(255), nullable=False),
    Column("owner", String(256), nullable=True),
    Column("comment", Text, nullable=True),
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
    PrimaryKeyConstraint("catalog_name", "name", name="pk_registry_schemas"),
)

# Webhooks on registry events (MLflow's API): deliveries are signed JSON POSTs, retried with
# backoff, each attempt logged in webhook_deliveries.
webhooks = Table(
    "webhooks",
    metadata,
    Column("webhook_id", String(36), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("description", Text, nullable=True),
    Column("url", Text, nullable=False),
    Column("events", Text, nullable=False),  # JSON list of [entity, action]
    Column("secret", Text, nullable=True),
    Column("status", String(20), nullable=False),  # ACTIVE, DISABLED
    Column("creation_timestamp", BigInteger, nullable=False),
    Column("last_updated_timestamp", BigInteger, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("delivery_id", String(36), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column(
        "webhook_id",
        String(36),
        ForeignKey("webhooks.webhook_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("entity", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("timestamp", BigInteger, nullable=False),
    Column("status_code", Integer, nullable=True),
    Column("error", Text, nullable=True),
    Column("success", Boolean, nullable=False),
    PrimaryKeyConstraint("delivery_id", "attempt", name="pk_webhook_deliveries"),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "timestamp"),
)

# The durable queue of deliveries not made yet (migration 0006): a registry change inserts one
# row per listening webhook in its own transaction; a dispatcher claims a due row by moving
# lease_until past now (only if it was before now, so one worker per attempt), POSTs it, then
# deletes the row or sets the next attempt's time. The body is fixed when the row is queued.
webhook_queue = Table(
    "webhook_queue",
    metadata,
    Column("delivery_id", String(36), primary_key=True),
    Column(
        "webhook_id",
        String(36),
        ForeignKey("webhooks.webhook_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("entity", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("body", Text, nullable=False),  # the JSON POSTed (and signed) on every attempt
    Column("attempts", Integer, nullable=False),  # attempts started so far
    Column("next_attempt_at", BigInteger, nullable=False),  # ms since epoch
    Column("lease_until", BigInteger, nullable=False),  # ms since epoch; 0 when not claimed
    Column("created_at", BigInteger, nullable=False),  # ms since epoch
    Index("ix_webhook_queue_due", "next_attempt_at"),
    Index("ix_webhook_queue_webhook", "webhook_id"),
)

# GenAI tracing: one row per trace (its info, previews and token totals), its tags and metadata,
# one row per span (attributes and events as JSON; inputs and outputs as JSON text, cut past a
# configurable size with a marker in the span's attributes), and assessments of traces.
traces = Table(
    "traces",
    metadata,
    Column("trace_id", String(50), primary_key=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("client_request_id", String(250), nullable=True),
    Column("request_time", BigInteger, nullable=False),
    Column("execution_duration", BigInteger, nullable=True),
    Column("state", String(20), nullable=False),
    Column("request_preview", Text, nullable=True),
    Column("response_preview", Text, nullable=True),
    Column("input_tokens", BigInteger, nullable=True),
    Column("output_tokens", BigInteger, nullable=True),
    Column("total_tokens", BigInteger, nullable=True),
    # Copied from the metadata for the overview, sessions and versions (0015): the session
    # (mlflow.trace.session) and LoggedModel (mlflow.modelId) when at most 250 characters, the
    # cost in USD (mlflow.trace.cost, else the spans' mlflow.llm.cost summed like the tokens);
    # and the user (mlflow.trace.user, 0022), which the views filter by.
    Column("session_id", String(250), nullable=True),
    Column("model_id", String(250), nullable=True),
    Column("user_id", String(250), nullable=True),
    Column("input_cost", Float(precision=53), nullable=True),
    Column("output_cost", Float(precision=53), nullable=True),
    Column("total_cost", Float(precision=53), nullable=True),
    Index("ix_traces_experiment_time", "experiment_id", "request_time", "trace_id"),
    # Covering indexes: each overview, session and version aggregate reads one index range.
    Index(
        "ix_traces_overview",
        "experiment_id",
        "request_time",
        "state",
        "execution_duration",
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "total_cost",
        "trace_id",  # matched against a filter's traces (0029)
    ),
    Index(
        "ix_traces_session",
        "experiment_id",
        "session_id",
        "request_time",
        "state",
        "execution_duration",
        "total_tokens",
    ),
    Index(
        "ix_traces_user",
        "experiment_id",
        "user_id",
        "request_time",
        "state",
        "execution_duration",
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "total_cost",
    ),
    Index(
        "ix_traces_model",
        "experiment_id",
        "model_id",
        "request_time",
        "state",
        "execution_duration",
        "input_tokens",
        "output_tokens",
        "total_tokens",
        "total_cost",
    ),
)

SHORT_VALUE = 200  # the longest tag or metadata value ix_*_values holds, in characters


def key_value_indexes(table: str) -> list[Index]:
    """PostgreSQL only (0032): a trace's tags or metadata by key and value, so that a filter's
    traces are one index range joined to a window's (trace_key_values.py). A B-tree row holds
    at most about 2,700 bytes: values of up to SHORT_VALUE characters are held with the trace
    id, the longer ones (rare) are indexed by key and trace id alone."""
    short = f"length(value) <= {SHORT_VALUE}"
    long = f"length(value) > {SHORT_VALUE}"
    return [
        Index(f"ix_{table}_values", "key", "value", "trace_id",
              postgresql_where=text(short)).ddl_if(dialect="postgresql"),
        Index(f"ix_{table}_long_values", "key", "trace_id",
              postgresql_where=text(long)).ddl_if(dialect="postgresql"),
    ]  # fmt: skip


trace_tags = Table(
    "trace_tags",
    metadata,
    Column(
        "trace_id", String(50), ForeignKey("traces.trace_id", ondelete="CASCADE"), nullable=False
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("trace_id", "key", name="pk_trace_tags"),
    *key_value_indexes("trace_tags"),
    sqlite_with_rowid=False,
)

trace_metadata = Table(
    "trace_metadata",
    metadata,
    Column(
        "trace_id", String(50), ForeignKey("traces.trace_id", ondelete="CASCADE"), nullable=False
    ),
    Column("key", String(250), nullable=False),
    Column("value", Text, nullable=False),
    PrimaryKeyConstraint("trace_id", "key", name="pk_trace_metadata"),
    *key_value_indexes("trace_metadata"),
    sqlite_with_rowid=False,
)

trace_run_links = Table(
    "trace_run_links",
    metadata,
    Column(
        "trace_id", String(50), ForeignKey("traces.trace_id", ondelete="CASCADE"), nullable=False
    ),
    Column("run_id", String(32), nullable=False),  # a run's id, kept when the run is purged
    Column("linked_time", BigInteger, nullable=False),  # ms since epoch
    PrimaryKeyConstraint("trace_id", "run_id", name="pk_trace_run_links"),
    Index("ix_trace_run_links_run", "run_id", "trace_id"),
    sqlite_with_rowid=False,
)

spans = Table(
    "spans",
    metadata,
    Column(
        "trace_id", String(50), ForeignKey("traces.trace_id", ondelete="CASCADE"), nullable=False
    ),
    Column("span_id", String(16), nullable=False),
    Column("parent_span_id", String(16), nullable=True),
    Column("name", Text, nullable=False),
    Column("span_type", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_message", Text, nullable=True),
    Column("start_time_ns", BigInteger, nullable=False),
    Column("end_time_ns", BigInteger, nullable=True),
    Column("attributes", JSON, nullable=False),
    Column("events", Text, nullable=True),
    Column("inputs", Text, nullable=True),
    Column("outputs", Text, nullable=True),
    Column("experiment_id", Integer, nullable=True),  # the trace's (0015), for the index below
    PrimaryKeyConstraint("trace_id", "span_id", name="pk_spans"),
    # Tool calls of an experiment over time (the overview), only TOOL spans indexed.
    Index(
        "ix_spans_tools",
        "experiment_id",
        "start_time_ns",
        "name",
        "status",
        "end_time_ns",
        "span_type",  # implied by the WHERE, but SQLite covers only with the column itself
        "trace_id",
        sqlite_where=text("span_type = 'TOOL'"),
        postgresql_where=text("span_type = 'TOOL'"),
    ),
)

assessments = Table(
    "assessments",
    metadata,
    Column("assessment_id", String(50), primary_key=True),
    Column(
        "trace_id", String(50), ForeignKey("traces.trace_id", ondelete="CASCADE"), nullable=False
    ),
    Column("name", String(250), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("span_id", String(16), nullable=True),
    Column("source_type", String(20), nullable=False),
    Column("source_id", String(250), nullable=False),
    Column("value", Text, nullable=True),  # JSON
    Column("value_text", Text, nullable=True),  # the value as filters compare it
    Column("rationale", Text, nullable=True),
    Column("error", Text, nullable=True),  # JSON
    Column("assessment_metadata", Text, nullable=True),  # JSON object
    Column("create_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Column("overrides", String(50), nullable=True),
    Column("valid", Boolean, nullable=False),
    # For the overview's scores (0015): the trace's experiment, start time and app version,
    # and the value as a number (true/yes 1, false/no 0, finite numbers as they are; else null).
    Column("experiment_id", Integer, nullable=True),
    Column("trace_time", BigInteger, nullable=True),
    Column("score", Float(precision=53), nullable=True),
    Column("model_id", String(250), nullable=True),  # the trace's app version
    Index("ix_assessments_trace", "trace_id", "create_time"),
    Index(
        "ix_assessments_scores",
        "experiment_id",
        "trace_time",
        "kind",
        "valid",
        "name",
        "score",
        "model_id",
        "trace_id",
    ),
)
