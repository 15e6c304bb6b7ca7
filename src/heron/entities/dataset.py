"""Datasets that runs use as inputs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Dataset:
    name: str
    digest: str
    source_type: str
    source: str
    schema: str = ""
    profile: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class InputTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetInput:
    dataset: Dataset
    tags: Sequence[InputTag] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class DatasetSummary:
    """A dataset some run of an experiment used, and in which context (training, ...)."""

    experiment_id: str
    name: str
    digest: str
    context: str = ""
