"""Runs and what is logged to them: metrics, params and tags."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import overload

from heron.entities.dataset import DatasetInput
from heron.entities.experiment import LifecycleStage
from heron.entities.logged_model import LoggedModelInput, LoggedModelOutput


class RunStatus(enum.StrEnum):
    RUNNING = "RUNNING"
    SCHEDULED = "SCHEDULED"
    FINISHED = "FINISHED"
    FAILED = "FAILED"
    KILLED = "KILLED"

    @property
    def is_terminated(self) -> bool:
        return self in (RunStatus.FINISHED, RunStatus.FAILED, RunStatus.KILLED)


@dataclass(frozen=True, slots=True, kw_only=True)
class Metric:
    key: str
    value: float  # NaN and +-inf are valid values
    timestamp: int  # ms since epoch
    step: int = 0


@dataclass(frozen=True, slots=True, eq=False)
class MetricColumns(Sequence[Metric]):
    """Metric points held column by column: a `Sequence[Metric]` that is cheap to build, check,
    store and serialise (a 100,000-step history or a 1,000-point batch is four lists, not
    thousands of objects). Metric objects are made only for the points a caller indexes or
    iterates."""

    keys: Sequence[str]
    values: Sequence[float]
    timestamps: Sequence[int]
    steps: Sequence[int]

    def __len__(self) -> int:
        return len(self.keys)

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same points, as a list of Metric objects would be."""
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # equal to lists, so unhashable like them

    @overload
    def __getitem__(self, index: int) -> Metric: ...

    @overload
    def __getitem__(self, index: slice) -> MetricColumns: ...

    def __getitem__(self, index: int | slice) -> Metric | MetricColumns:
        if isinstance(index, slice):
            return MetricColumns(
                self.keys[index], self.values[index], self.timestamps[index], self.steps[index]
            )
        return Metric(
            key=self.keys[index],
            value=self.values[index],
            timestamp=self.timestamps[index],
            step=self.steps[index],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Param:
    key: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunTag:
    key: str
    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    run_id: str
    run_name: str
    experiment_id: str
    user_id: str
    status: RunStatus
    start_time: int  # ms since epoch
    end_time: int | None
    artifact_uri: str
    lifecycle_stage: LifecycleStage


@dataclass(frozen=True, slots=True, kw_only=True)
class RunData:
    metrics: Sequence[Metric] = ()  # the latest point of each key
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    info: RunInfo
    data: RunData
    dataset_inputs: Sequence[DatasetInput] = ()
    model_inputs: Sequence[LoggedModelInput] = ()
    model_outputs: Sequence[LoggedModelOutput] = ()
