"""Columns derived from what a trace holds, kept for the GenAI views' aggregates: its session,
app version and cost (from the metadata, or the spans' costs), and each assessment's score."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from heron.entities import reserved
from heron.entities.trace import Span

MAX_INDEXED = 250  # the width of traces.session_id, model_id and user_id
COST_FIELDS = ("input_cost", "output_cost", "total_cost")
_YES_NO = {"yes": 1.0, "no": 0.0}


def indexed(value: str) -> str | None:
    """A session, model or user id as its column keeps it: longer ones are not kept (a search for
    one reads the metadata instead)."""
    return value if len(value) <= MAX_INDEXED else None


def metadata_columns(metadata: Mapping[str, str]) -> dict[str, Any]:
    """The trace columns that `metadata` (being merged into a trace's) sets."""
    columns: dict[str, Any] = {}
    if reserved.TRACE_SESSION in metadata:
        columns["session_id"] = indexed(metadata[reserved.TRACE_SESSION])
    if reserved.TRACE_MODEL_ID in metadata:
        columns["model_id"] = indexed(metadata[reserved.TRACE_MODEL_ID])
    if reserved.TRACE_USER in metadata:
        columns["user_id"] = indexed(metadata[reserved.TRACE_USER])
    if reserved.TRACE_COST in metadata:
        cost = cost_of_text(metadata[reserved.TRACE_COST])
        if cost is not None:
            columns.update(cost)
    return columns


def cost_of_text(text: str) -> dict[str, float] | None:
    """The costs in `mlflow.trace.cost` metadata (JSON text), or None when it holds none."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return cost_of(value)


def cost_of(value: Any) -> dict[str, float] | None:
    """The finite costs of a {"input_cost", "output_cost", "total_cost"} object; a missing
    total is input + output. None when it holds no cost."""
    if not isinstance(value, Mapping):
        return None
    costs = {k: _finite(value.get(k)) for k in COST_FIELDS}
    if all(v is None for v in costs.values()):
        return None
    if costs["total_cost"] is None:
        costs["total_cost"] = (costs["input_cost"] or 0.0) + (costs["output_cost"] or 0.0)
    return {k: v or 0.0 for k, v in costs.items()}


def span_costs(spans: Iterable[Span]) -> dict[str, float] | None:
    """The spans' `mlflow.llm.cost` added up (what the openai autolog records), or None."""
    return summed_costs(span.attributes.get(reserved.LLM_COST) for span in spans)


def summed_costs(values: Iterable[Any]) -> dict[str, float] | None:
    totals = dict.fromkeys(COST_FIELDS, 0.0)
    seen = False
    for value in values:
        cost = cost_of(value)
        if cost is None:
            continue
        seen = True
        for key in COST_FIELDS:
            totals[key] += cost[key]
    return totals if seen and all(map(math.isfinite, totals.values())) else None


def score_of(value: Any) -> float | None:
    """An assessment's value as a number for means: true/false and "yes"/"no" (any case) are
    1 and 0, finite numbers are themselves; anything else is None."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return _finite(value)
    if isinstance(value, str):
        return _YES_NO.get(value.strip().lower())
    return None


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer past a float's range
        return None
    return number if math.isfinite(number) else None
