"""The GenAI overview's hourly rollups (migrations 0025, 0031): what the overview adds up for
each experiment, hour (ms since the epoch, on the hour), app version, environment, span type
and label, and which hours are marked true to the raw rows. Triggers on traces, their tags,
metadata, spans and assessments (the migrations') drop an hour's mark when a row in it
changes; rows of an unmarked hour are never read."""

from __future__ import annotations

from typing import Any

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


def _dimensions(name: str) -> list[Any]:
    """What every rollup row is kept by: its experiment, hour, app version, environment, span
    type and label (see trace_rollups), and the two indexes reading them."""
    return [
        Column("experiment_id", Integer, nullable=False),
        Column("hour_ms", BigInteger, nullable=False),
        Column("model_id", String(250), nullable=True),
        Column("environment", Text, nullable=True),
        Column("span_type", String(100), nullable=False),
        Column("label_key", Text, nullable=False, server_default=""),
        Column("label_value", Text, nullable=False, server_default=""),
        Index(f"ix_{name}_hour", "experiment_id", "hour_ms"),
        Index(
            f"ix_{name}_read", "experiment_id", "label_key", "label_value", "span_type", "hour_ms"
        ),
    ]


# The hours whose rollup rows below match the raw rows; absent: read the raw rows.
trace_rollup_hours = Table(
    "trace_rollup_hours",
    metadata,
    Column("experiment_id", Integer, nullable=False),
    Column("hour_ms", BigInteger, nullable=False),
    PrimaryKeyConstraint("experiment_id", "hour_ms", name="pk_trace_rollup_hours"),
)

# Labels left out of an hour's rows: more than trace_rollups_build.LABEL_VALUES values.
trace_rollup_cuts = Table(
    "trace_rollup_cuts",
    metadata,
    Column("experiment_id", Integer, nullable=False),
    Column("hour_ms", BigInteger, nullable=False),
    Column("label_key", Text, nullable=False),
    PrimaryKeyConstraint("experiment_id", "hour_ms", "label_key", name="pk_trace_rollup_cuts"),
)

# Traces that started in the hour, by app version (NULL: none), environment (the metadata
# mlflow.source.type; NULL: none), span type (span_type '' counts every trace, any other
# value the traces holding a span of that type) and label (label_key '' counts every trace;
# `tag.<key>` or `metadata.mlflow.trace.user` with label_value the traces holding it).
# Counts, sums, and the durations' frequency table (JSON [[ms, ...], [count, ...]]), exact
# as the raw rows are.
trace_rollups = Table(
    "trace_rollups",
    metadata,
    *_dimensions("trace_rollups"),
    Column("traces", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("input_tokens", BigInteger, nullable=False),
    Column("output_tokens", BigInteger, nullable=False),
    Column("total_tokens", BigInteger, nullable=False),
    Column("cost", Float(precision=53), nullable=False),
    Column("durations", Text, nullable=False),
)

# Valid feedback of traces that started in the hour, by app version, environment, span type,
# label (as above) and name: how many values
# read as numbers, and their sum.
trace_rollup_scores = Table(
    "trace_rollup_scores",
    metadata,
    *_dimensions("trace_rollup_scores"),
    Column("name", String(250), nullable=False),
    Column("n", BigInteger, nullable=False),
    Column("total", Float(precision=53), nullable=False),
)

# TOOL spans that started in the hour, by their trace's app version, environment and span
# types (as above) and the span's name:
# calls, errors and the durations' frequency table (whole ms, as the raw query reads them).
trace_rollup_tools = Table(
    "trace_rollup_tools",
    metadata,
    *_dimensions("trace_rollup_tools"),
    Column("name", Text, nullable=False),
    Column("calls", BigInteger, nullable=False),
    Column("errors", BigInteger, nullable=False),
    Column("durations", Text, nullable=False),
)

ROLLUP_TABLES = (
    trace_rollup_hours,
    trace_rollup_cuts,
    trace_rollups,
    trace_rollup_scores,
    trace_rollup_tools,
)
