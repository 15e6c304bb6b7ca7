"""Runs and what is logged to them: metrics, params and tags."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import orjson

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


class JsonMetrics(Sequence[Metric]):
    """Metric points kept as the JSON array the store read them as, in the shape of MLflow's
    messages (`[{"key": ..., "value": ..., "timestamp": ..., "step": ...}, ...]`, NaN and the
    infinities as strings). The server sends the text on as it is; it is decoded (once, into
    MetricColumns) only when a caller reads the points. Never empty."""

    __slots__ = ("_columns", "json")

    def __init__(self, json: str) -> None:
        self.json = json
        self._columns: MetricColumns | None = None

    def columns(self) -> MetricColumns:
        if self._columns is None:
            points = orjson.loads(self.json)
            self._columns = MetricColumns(
                [p["key"] for p in points],
                [float(p["value"]) for p in points],  # "NaN", "Infinity" and ints as floats
                [p["timestamp"] for p in points],
                [p["step"] for p in points],
            )
        return self._columns

    def __bool__(self) -> bool:
        return True  # without decoding: the store makes one only for points it found

    def __len__(self) -> int:
        return len(self.columns())

    @overload
    def __getitem__(self, index: int) -> Metric: ...

    @overload
    def __getitem__(self, index: slice) -> MetricColumns: ...

    def __getitem__(self, index: int | slice) -> Metric | MetricColumns:
        return self.columns()[index]

    def __eq__(self, other: object) -> bool:
        return self.columns() == other

    __hash__ = None  # type: ignore[assignment]  # equal to lists, so unhashable like them

    def __repr__(self) -> str:
        return f"JsonMetrics({self.json!r})"


class JsonKeyValues(Mapping[str, str]):
    """Key/value pairs (params, tags) kept as the JSON array the store read them as, in the
    shape of MLflow's messages (`[{"key": ..., "value": ...}, ...]`). The server sends the
    text on as it is; it is decoded (once) only when a caller reads the pairs. Never empty."""

    __slots__ = ("_pairs", "json")

    def __init__(self, json: str) -> None:
        self.json = json
        self._pairs: dict[str, str] | None = None

    def _decoded(self) -> dict[str, str]:
        if self._pairs is None:
            self._pairs = {p["key"]: p["value"] for p in orjson.loads(self.json)}
        return self._pairs

    def __bool__(self) -> bool:
        return True  # without decoding: the store makes one only for pairs it found

    def __getitem__(self, key: str) -> str:
        return self._decoded()[key]

    def __iter__(self) -> Any:
        return iter(self._decoded())

    def __len__(self) -> int:
        return len(self._decoded())

    def __repr__(self) -> str:
        return f"JsonKeyValues({self._decoded()!r})"


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
