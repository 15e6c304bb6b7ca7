"""The GenAI overview's hourly rollups (migration 0025): what the overview adds up for each
experiment, hour (ms since the epoch, on the hour), app version, environment and span type,
and which hours are marked true to the raw rows. Triggers on traces, their metadata, spans
and assessments (the migration's) drop an hour's mark when a row in it changes; rows of an
unmarked hour are never read."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from heron.store.sql.tables import metadata


def _dimensions() -> list[Column[object]]:
    """What every rollup row is kept by: its experiment, hour, app version, environment and
    span type (see trace_rollups)."""
    return [
        Column("experiment_id", Integer, nullable=False),
        Column("hour_ms", BigInteger, nullable=False),
        Column("model_id", String(250), nullable=True),
        Column("environment", Text, nullable=True),
        Column("span_type", String(100), nullable=False),
    ]


# The hours whose rollup rows below match the raw rows; absent: read the raw rows.
trace_rollup_hours = Table(
    "trace_rollup_hours",
    metadata,
    Column("experiment_id", Integer, nullable=False),
    Column("hour_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("experiment_id", "hour_ms", name="pk_trace_rollup_hours"),
)

# Traces that started in the hour, by app version (NULL: none), environment (the metadata
# mlflow.source.type; NULL: none) and span type: span_type '' counts every trace, any other
# value the traces holding a span of that type. Counts, sums, and the durations' frequency
# table (JSON [[ms, ...], [count, ...]]), exact as the raw rows are.
trace_rollups = Table(
    "trace_rollups",
    metadata,
    *_dimensions(),
    Column("traces", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("total_tokens", BigInteger, nullable=False),
    Column("cost", Float(precision=53), nullable=False),
    Column("durations", Text, nullable=False),
    Index("ix_trace_rollups_hour", "experiment_id", "hour_ms"),
)

# Valid feedback of traces that started in the hour, by app version, environment, span type
# (as above) and name: how many values
# read as numbers, and their sum.
trace_rollup_scores = Table(
    "trace_rollup_scores",
    metadata,
    *_dimensions(),
    Column("name", String(250), nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("total", Float(precision=53), nullable=False),
    Index("ix_trace_rollup_scores_hour", "experiment_id", "hour_ms"),
)

# TOOL spans that started in the hour, by their trace's app version, environment and span
# types (as above) and the span's name:
# calls, errors and the durations' frequency table (whole ms, as the raw query reads them).
trace_rollup_tools = Table(
    "trace_rollup_tools",
    metadata,
    *_dimensions(),
    Column("name", Text, nullable=False),
    Column("calls", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("durations", Text, nullable=False),
    Index("ix_trace_rollup_tools_hour", "experiment_id", "hour_ms"),
)

ROLLUP_TABLES = (trace_rollup_hours, trace_rollups, trace_rollup_scores, trace_rollup_tools)
