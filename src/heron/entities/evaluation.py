"""GenAI evaluation: evaluation datasets and their records, a judge's cached verdict."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class SharedLimits:
    """A judge endpoint's token bucket as every process on one database sees it: the tokens
    its callers used in the current minute, how long that minute still runs, and how long
    they all wait before a new call because an endpoint answered 429 (ms, from the answer)."""

    window_tokens: int
    window_left_ms: int
    pause_left_ms: int


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
    """A named set of records to evaluate apps on, linked to experiments. Each change of its
    records makes a new `version` with its own `digest`: an evaluation run names the version
    and digest it used, and the records of every version can be read again."""

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
    version: int = 0  # the newest version of its records; 0 before any record


def dataset_digest(name: str, last_update_time: int) -> str:
    """MLflow's digest of a dataset: the first 8 hex digits of SHA-256 of `name:time`."""
    return hashlib.sha256(f"{name}:{last_update_time}".encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetVersion:
    """One version of a dataset's records: what the change that made it did (records
    inserted, updated, deleted) and how many records the dataset then had."""

    dataset_id: str
    version: int  # 1, 2, ...
    digest: str
    created_time: int  # ms since epoch
    num_records: int
    inserted_count: int = 0
    updated_count: int = 0
    deleted_count: int = 0
    created_by: str | None = None


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
