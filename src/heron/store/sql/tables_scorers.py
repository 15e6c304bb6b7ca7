"""The tables of registered scorers: each version of a scorer saved in an experiment, and the
online scoring configuration (sample rate, filter) of a scorer (migration 0017)."""

from __future__ import annotations

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

registered_scorers = Table(
    "registered_scorers",
    metadata,
    Column("scorer_version_id", String(36), primary_key=True),
    Column("scorer_id", String(36), nullable=False),  # one per experiment and name
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("name", String(250), nullable=False),
    Column("version", Integer, nullable=False),
    Column("serialized_scorer", Text, nullable=False),
    Column("creation_time", BigInteger, nullable=False),
    UniqueConstraint("experiment_id", "name", "version", name="uq_registered_scorers_version"),
    Index("ix_registered_scorers_scorer", "scorer_id"),
)

online_scoring_configs = Table(
    "online_scoring_configs",
    metadata,
    Column("config_id", String(36), primary_key=True),
    Column("scorer_id", String(36), nullable=False, unique=True),
    Column(
        "experiment_id",
        Integer,
        ForeignKey("experiments.experiment_id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("sample_rate", Float, nullable=False),
    Column("filter_string", Text, nullable=True),
    Column("last_update_time", BigInteger, nullable=False),
)
