"""The store ports of GenAI evaluation: evaluation datasets, the judge cache, registered
scorers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from heron.entities import Page
from heron.entities.evaluation import (
    CachedVerdict,
    DatasetRecord,
    DatasetVersion,
    EvaluationDataset,
    OnlineScoringConfig,
    ScorerVersion,
    SharedLimits,
)
from heron.search.grammar import Comparison, OrderKey
from heron.store.visibility import Visibility


class DatasetStore(Protocol):
    def create_dataset(self, dataset: EvaluationDataset) -> EvaluationDataset: ...

    def get_dataset(self, dataset_id: str) -> EvaluationDataset: ...  # raises NotFound

    def search_datasets(
        self,
        experiment_ids: Sequence[str],
        filters: Sequence[Comparison],
        order_by: Sequence[OrderKey],
        max_results: int,
        page_token: str | None,
        *,
        visible: Visibility | None = None,
        creator: str | None = None,
    ) -> Page[EvaluationDataset]:
        """With `visible`, only the datasets of an experiment it shows, and those `creator`
        made."""
        ...

    def delete_dataset(self, dataset_id: str) -> None: ...

    def update_dataset(
        self,
        dataset_id: str,
        *,
        tags: Mapping[str, str] | None = None,
        add_experiments: Sequence[str] = (),
        remove_experiments: Sequence[str] = (),
        updated_by: str | None = None,
        now: int,
    ) -> EvaluationDataset: ...

    def upsert_records(
        self, dataset_id: str, items: Sequence[Mapping[str, Any]], *, user: str | None, now: int
    ) -> tuple[int, int]: ...

    def get_records(
        self,
        dataset_id: str,
        max_results: int,
        page_token: str | None,
        *,
        version: int | None = None,
    ) -> Page[DatasetRecord]:
        """The present records, or those of `version` (NotFound when it never was)."""
        ...

    def delete_records(
        self, dataset_id: str, record_ids: Sequence[str], *, user: str | None = None, now: int = 0
    ) -> int: ...

    def list_versions(
        self, dataset_id: str, max_results: int, page_token: str | None
    ) -> Page[DatasetVersion]:
        """Newest first."""
        ...

    def get_version(self, dataset_id: str, version: int) -> DatasetVersion: ...  # NotFound


class JudgeCacheStore(Protocol):
    def get_verdict(self, key: str) -> CachedVerdict | None: ...

    def put_verdict(self, verdict: CachedVerdict) -> None: ...


class JudgeLimitStore(Protocol):
    def merge_limits(
        self, key: str, tokens: int, paused_until_ms: int, now_ms: int, window_ms: int
    ) -> SharedLimits: ...


class ScorerStore(Protocol):
    def register_scorer(
        self, experiment_id: str, name: str, serialized: str, now: int
    ) -> ScorerVersion: ...

    def list_scorers(self, experiment_ids: Sequence[str]) -> list[ScorerVersion]: ...

    def scorer_versions(self, experiment_id: str, name: str) -> list[ScorerVersion]: ...

    def get_scorer(
        self, experiment_id: str, name: str, version: int | None
    ) -> ScorerVersion: ...  # raises NotFound

    def delete_scorer(self, experiment_id: str, name: str, version: int | None) -> None: ...

    def upsert_config(
        self, scorer: ScorerVersion, sample_rate: float, filter_string: str | None, now: int
    ) -> OnlineScoringConfig: ...

    def get_configs(self, scorer_ids: Sequence[str]) -> list[OnlineScoringConfig]: ...

    def latest_by_id(self, scorer_id: str) -> ScorerVersion: ...  # raises NotFound

    def active_configs(self) -> list[OnlineScoringConfig]: ...
