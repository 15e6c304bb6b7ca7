"""The tables of GenAI evaluation: evaluation datasets, their experiments and records, and the
judge cache (on the same metadata as `tables`; migration 0012), and the versions of a dataset's
records (migration 0026)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from heron.store.sql.tables import metadata


def _record_content() -> list[Column[Any]]:
    """What a record holds, in the records table and in each state kept of it."""
    return [
        Column("inputs", Text, nullable=False),  # JSON
        Column("outputs", Text, nullable=True),  # JSON
        Column("expectations", Text, nullable=True),  # JSON object
        Column("tags", Text, nullable=True),  # JSON object
        Column("source", Text, nullable=True),  # JSON object
        Column("created_time", BigInteger, nullable=False),
        Column("last_update_time", BigInteger, nullable=False),
        Column("created_by", Text, nullable=True),
        Column("last_updated_by", Text, nullable=True),
    ]


evaluation_datasets = Table(
    "evaluation_datasets",
    metadata,
    Column("dataset_id", String(36), primary_key=True),
    Column("name", String(500), nullable=False),
    Column("tags", Text, nullable=True),  # JSON object
    Column("dataset_schema", Text, nullable=True),  # JSON
    Column("profile", Text, nullable=True),  # JSON
    Column("digest", String(36), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("last_update_time", BigInteger, nullable=False),
    Column("created_by", Text, nullable=True),
    Column("last_updated_by", Text, nullable=True),
    # the newest version of its records (0 before any): each change of records makes one
    Column("version", Integer, nullable=False, server_default="0"),
    Index("ix_evaluation_datasets_name", "name"),
)

evaluation_dataset_experiments = Table(
    "evaluation_dataset_experiments",
    metadata,
    Column(
        "dataset_id",
        String(36),
        ForeignKey("evaluation_datasets.dataset_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index("ix_evaluation_dataset_experiments_experiment", "experiment_id"),
)

evaluation_dataset_records = Table(
    "evaluation_dataset_records",
    metadata,
    Column("dataset_record_id", String(36), primary_key=True),
    Column(
        "dataset_id",
        String(36),
        ForeignKey("evaluation_datasets.dataset_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("input_hash", String(64), nullable=False),
    *_record_content(),
    UniqueConstraint("dataset_id", "input_hash", name="uq_evaluation_dataset_records_inputs"),
    Index("ix_evaluation_dataset_records_page", "dataset_id", "created_time", "dataset_record_id"),
)

evaluation_dataset_versions = Table(
    "evaluation_dataset_versions",
    metadata,
    Column(
        "dataset_id",
        String(36),
        ForeignKey("evaluation_datasets.dataset_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("version", Integer, primary_key=True),
    Column("digest", String(36), nullable=False),
    Column("created_time", BigInteger, nullable=False),
    Column("created_by", Text, nullable=True),
    Column("num_records", BigInteger, nullable=False),
    Column("inserted_count", BigInteger, nullable=False),
    Column("updated_count", BigInteger, nullable=False),
    Column("deleted_count", BigInteger, nullable=False),
)

# Each state a record had: from the version that gave it (first_version) until the version
# that changed or deleted it (last_version, exclusive; NULL while it is current). The records
# of version v are the rows with first_version <= v < last_version.
evaluation_dataset_record_versions = Table(
    "evaluation_dataset_record_versions",
    metadata,
    Column("dataset_record_id", String(36), primary_key=True),
    Column("first_version", Integer, primary_key=True),
    Column("last_version", Integer, nullable=True),
    Column(
        "dataset_id",
        String(36),
        ForeignKey("evaluation_datasets.dataset_id", ondelete="CASCADE"),
        nullable=False,
    ),
    *_record_content(),
    Index(
        "ix_evaluation_dataset_record_versions_page",
        "dataset_id",
        "created_time",
        "dataset_record_id",
    ),
)

judge_cache = Table(
    "judge_cache",
    metadata,
    Column("cache_key", String(64), primary_key=True),
    Column("scorer_digest", String(64), nullable=False),
    Column("model", String(500), nullable=False),
    Column("value", Text, nullable=True),  # JSON
    Column("rationale", Text, nullable=True),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("create_time", BigInteger, nullable=False),
    Column("hits", BigInteger, nullable=False),
)

judge_limits = Table(
    "judge_limits",
    metadata,
    Column("endpoint_key", String(64), primary_key=True),  # SHA-256 of the endpoint, in hex
    Column("window_start_ms", BigInteger, nullable=False),
    Column("window_tokens", BigInteger, nullable=False),
    Column("paused_until_ms", BigInteger, nullable=False),
)
