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
