"""The tables of human review: label schemas, review queues with their reviewers and
schemas, and the traces queued for review (migration 0023)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from heron.store.sql.tables import metadata


def _experiment() -> Column[int]:
    return Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    )


def _queue() -> Column[str]:
    return Column(
        "queue_id",
        String(36),
        ForeignKey("review_queues.queue_id", ondelete="CASCADE"),
        nullable=False,
    )


label_schemas = Table(
    "label_schemas",
    metadata,
    Column("schema_id", String(36), primary_key=True),
    _experiment(),
    Column("name", String(250), nullable=False),
    Column("type", String(16), nullable=False),
    Column("input", Text, nullable=False),  # JSON: {"pass_fail": {...}} and the like
    Column("instruction", Text, nullable=True),
    Column("enable_comment", Boolean, nullable=False),
    Column("created_by", String(250), nullable=True),
    Column("created_at", BigInteger, nullable=False),
    Column("last_updated_at", BigInteger, nullable=False),
    Column("is_default", Boolean, nullable=False),
    UniqueConstraint("experiment_id", "name", name="uq_label_schemas_name"),
)

review_queues = Table(
    "review_queues",
    metadata,
    Column("queue_id", String(36), primary_key=True),
    _experiment(),
    Column("name", String(250), nullable=False),
    Column("queue_type", String(16), nullable=False),
    Column("created_by", String(250), nullable=True),
    Column("creation_time_ms", BigInteger, nullable=False),
    Column("last_update_time_ms", BigInteger, nullable=False),
    UniqueConstraint("experiment_id", "name", name="uq_review_queues_name"),
)

review_queue_users = Table(
    "review_queue_users",
    metadata,
    _queue(),
    Column("user_name", String(250), nullable=False),
    Column("position", Integer, nullable=False),
    UniqueConstraint("queue_id", "user_name", name="uq_review_queue_users"),
    Index("ix_review_queue_users_user", "user_name"),
)

review_queue_schemas = Table(
    "review_queue_schemas",
    metadata,
    _queue(),
    Column(
        "schema_id",
        String(36),
        ForeignKey("label_schemas.schema_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("position", Integer, nullable=False),
    UniqueConstraint("queue_id", "schema_id", name="uq_review_queue_schemas"),
)

review_queue_items = Table(
    "review_queue_items",
    metadata,
    _queue(),
    Column("item_id", String(50), nullable=False),
    Column("item_type", String(16), nullable=False),
    Column("position", Integer, nullable=False),  # the order queued
    Column("status", String(16), nullable=False),
    Column("completed_by", String(250), nullable=True),
    Column("completed_time_ms", BigInteger, nullable=True),
    Column("creation_time_ms", BigInteger, nullable=False),
    Column("last_update_time_ms", BigInteger, nullable=False),
    UniqueConstraint("queue_id", "item_id", name="uq_review_queue_items"),
    Index("ix_review_queue_items_item", "item_id"),
)
