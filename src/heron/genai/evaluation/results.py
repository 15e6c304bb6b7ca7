"""An evaluation's outcome: each row's scores, the run's aggregate metrics (`<name>/mean`, as
MLflow names them), and a DataFrame of it all."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from heron.entities.assessment import feedback_number as numeric
from heron.entities.trace import Trace
from heron.genai.evaluation.writer import Written
from heron.genai.feedback import Feedback
from heron.genai.scoring import Aggregation, Scorer


@dataclass(frozen=True, slots=True, kw_only=True)
class RowResult:
    """One evaluated row: what went in and out, its trace, and every score."""

    index: int
    key: str
    trace_id: str | None
    inputs: Any
    outputs: Any
    expectations: Mapping[str, Any]
    feedbacks: Sequence[Feedback]
    error: str | None = None  # the app failed on this row (predict_fn raised)
    trace: Trace | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheStats:
    """The judge cache during one evaluation: calls answered from it, and what they would
    have cost."""

    hits: int = 0
    misses: int = 0
    saved_usd: float = 0.0
    saved_tokens: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationResult:
    run_id: str
    metrics: Mapping[str, float]
    rows: Sequence[RowResult]
    written: Written = field(default_factory=Written)
    cache: CacheStats = field(default_factory=CacheStats)
    duration_s: float = 0.0

    @property
    def result_df(self) -> Any:
        """A pandas DataFrame: one row per evaluated row, a column per score (`<name>/value`)
        and per rationale."""
        import pandas as pd

        records = []
        for row in self.rows:
            record: dict[str, Any] = {
                "trace_id": row.trace_id, "record_key": row.key, "inputs": row.inputs,
                "outputs": row.outputs, "expectations": dict(row.expectations),
                "error_message": row.error,
            }  # fmt: skip
            for fb in row.feedbacks:
                record[f"{fb.name}/value"] = fb.value
                record[f"{fb.name}/rationale"] = (
                    fb.error.error_message if fb.error is not None else fb.rationale
                )
            records.append(record)
        return pd.DataFrame.from_records(records)

    def errors(self) -> dict[str, int]:
        """How many rows each scorer failed on."""
        counts: dict[str, int] = defaultdict(int)
        for row in self.rows:
            for fb in row.feedbacks:
                if fb.error is not None and fb.name:
                    counts[fb.name] += 1
        return dict(counts)


def aggregate(rows: Sequence[RowResult], scorers: Sequence[Scorer]) -> dict[str, float]:
    """`<feedback name>/<aggregation>` over the rows' numeric values (errors and values that are
    not numbers or yes/no left out), with each scorer's aggregations (mean by default)."""
    values: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        for fb in row.feedbacks:
            number = numeric(fb.value) if fb.error is None else None
            if number is not None and fb.name:
                values[fb.name].append(number)
    wanted = {s.name: s.aggregations for s in scorers}
    metrics: dict[str, float] = {}
    for name, numbers in values.items():
        for aggregation in wanted.get(name.split("/", 1)[-1], ("mean",)):
            label, value = _apply(aggregation, numbers)
            if value is not None:
                metrics[f"{name}/{label}"] = value
    return metrics


def _apply(aggregation: Aggregation, numbers: list[float]) -> tuple[str, float | None]:
    if not isinstance(aggregation, str):
        label = getattr(aggregation, "__name__", "custom")
        try:
            return label, float(aggregation(numbers))
        except Exception:
            return label, None
    if aggregation == "mean":
        return "mean", statistics.fmean(numbers)
    if aggregation == "min":
        return "min", min(numbers)
    if aggregation == "max":
        return "max", max(numbers)
    if aggregation == "median":
        return "median", float(statistics.median(numbers))
    if aggregation == "variance":
        return "variance", statistics.pvariance(numbers)
    ordered = sorted(numbers)  # p90, linear between the closest ranks (as numpy's default)
    position = 0.9 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return "p90", ordered[low] + (ordered[high] - ordered[low]) * (position - low)
