"""LoggedModels (MLflow 3): a model with an id of its own, linked to runs, metrics and datasets."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from heron.entities.experiment import LifecycleStage


class LoggedModelStatus(enum.StrEnum):
    """PENDING while its files are uploaded; READY or UPLOAD_FAILED once finalized."""

    PENDING = "PENDING"
    READY = "READY"
    UPLOAD_FAILED = "UPLOAD_FAILED"


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedModelMetric:
    """A metric point linked to a model: logged by `run_id`, computed on a dataset (or not)."""

    key: str
    value: float  # NaN and +-inf are valid values
    timestamp: int  # ms since epoch
    step: int = 0
    model_id: str
    run_id: str | None = None
    dataset_name: str | None = None
    dataset_digest: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedModelRegistration:
    """A registered model version made from this model."""

    name: str
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedModel:
    model_id: str  # "m-" + 32 hex digits
    experiment_id: str
    name: str
    artifact_location: str  # <experiment artifact location>/models/<model_id>/artifacts
    creation_timestamp: int  # ms since epoch
    last_updated_timestamp: int  # ms since epoch
    status: LoggedModelStatus = LoggedModelStatus.PENDING
    status_message: str | None = None
    model_type: str | None = None
    source_run_id: str | None = None
    lifecycle_stage: LifecycleStage = LifecycleStage.ACTIVE
    tags: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    metrics: Sequence[LoggedModelMetric] = ()
    registrations: Sequence[LoggedModelRegistration] = ()

    @property
    def model_uri(self) -> str:
        """`models:/<model_id>`: how clients name this model's files."""
        return f"models:/{self.model_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedModelOutput:
    """A model a run produced, at a step of the run."""

    model_id: str
    step: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class LoggedModelInput:
    """A model a run used (e.g. evaluated)."""

    model_id: str
