"""GenAI evaluation: evaluation datasets and their records, a judge's cached verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class CachedVerdict:
    """What a judge answered to one prompt, kept so the same question is not paid twice.
    `key` is the SHA-256 of the judge's digest, its model and the prompt."""

    key: str
    scorer_digest: str
    model: str
    value: Any  # a JSON value
    rationale: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    create_time: int = 0  # ms since epoch
    hits: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationDataset:
    """A named set of records to evaluate apps on, linked to experiments. Its `digest`
    changes with every change of its records: an evaluation run names the digest it used."""

    dataset_id: str  # "d-" + 32 hex digits
    name: str
    digest: str
    created_time: int  # ms since epoch
    last_update_time: int  # ms since epoch
    tags: Mapping[str, str] = field(default_factory=dict)
    schema: str | None = None  # JSON
    profile: str | None = None  # JSON
    created_by: str | None = None
    last_updated_by: str | None = None
    experiment_ids: Sequence[str] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetRecord:
    """One row of a dataset: `inputs` (unique within the dataset), `expectations`, `tags`,
    and where it came from (`source`: `{"source_type": "TRACE", "source_data": {...}}`)."""

    dataset_record_id: str  # "dr-" + 32 hex digits
    dataset_id: str
    inputs: Mapping[str, Any]
    created_time: int
    last_update_time: int
    outputs: Any = None
    expectations: Mapping[str, Any] | None = None
    tags: Mapping[str, Any] | None = None
    source: Mapping[str, Any] | None = None
    created_by: str | None = None
    last_updated_by: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ScorerVersion:
    """One version of a scorer registered in an experiment. `serialized_scorer` is MLflow's
    JSON form; `scorer_id` names the scorer (all its versions)."""

    scorer_id: str
    experiment_id: str
    name: str
    version: int
    serialized_scorer: str
    creation_time: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OnlineScoringConfig:
    """How a registered scorer scores new traces of its experiment: the share of traces it
    picks (0 stops it) and a filter they must match."""

    config_id: str
    scorer_id: str
    experiment_id: str
    sample_rate: float
    filter_string: str | None = None
