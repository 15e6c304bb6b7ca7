"""The model registry: registered models, their versions, aliases and activity."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

from heron.entities.dataset import DatasetInput
from heron.entities.deployment_jobs import DeploymentJobState
from heron.entities.experiment import Experiment
from heron.entities.run import RunInfo


class ModelVersionStatus(enum.StrEnum):
    PENDING_REGISTRATION = "PENDING_REGISTRATION"
    FAILED_REGISTRATION = "FAILED_REGISTRATION"
    READY = "READY"


class ModelVersionStage(enum.StrEnum):
    """MLflow's legacy stages, kept for older clients; aliases replace them."""

    NONE = "None"
    STAGING = "Staging"
    PRODUCTION = "Production"
    ARCHIVED = "Archived"


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelVersion:
    name: str
    version: str  # decimal, as MLflow's wire has it
    creation_timestamp: int  # ms since epoch
    last_updated_timestamp: int  # ms since epoch
    current_stage: ModelVersionStage = ModelVersionStage.NONE
    source: str = ""  # as the client gave it: runs:/..., models:/m-..., a storage URI
    storage_location: str = ""  # where the files are (get-download-uri)
    user_id: str | None = None
    description: str | None = None
    run_id: str | None = None
    run_link: str | None = None
    model_id: str | None = None
    status: ModelVersionStatus = ModelVersionStatus.READY
    status_message: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Sequence[str] = ()
    # Filled when one version is read (not in searches): its deployment job's latest run.
    deployment_job_state: DeploymentJobState | None = None


VersionRecord = tuple[
    str,  # name
    str,  # version
    int,  # creation_timestamp
    int,  # last_updated_timestamp
    ModelVersionStage,  # current_stage
    str,  # source
    str,  # storage_location
    str | None,  # user_id
    str | None,  # description
    str | None,  # run_id
    str | None,  # run_link
    str | None,  # model_id
    ModelVersionStatus,  # status
    str | None,  # status_message
    Mapping[str, str],  # tags
    Sequence[str],  # aliases
]


class ModelVersionRecords(Sequence[ModelVersion]):
    """Versions held as records (tuples in ModelVersion's field order): a
    `Sequence[ModelVersion]` that is cheap to build and to serialise (a page of 10,000
    versions is one list of tuples, not 10,000 objects). ModelVersion objects are made only
    for the items a caller indexes or iterates."""

    __slots__ = ("records",)

    def __init__(self, records: Sequence[VersionRecord]) -> None:
        self.records = records

    def __len__(self) -> int:
        return len(self.records)

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence of the same versions, as a list of them would be."""
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # equal to lists, so unhashable like them

    def __repr__(self) -> str:
        return f"ModelVersionRecords({list(self)!r})"

    @overload
    def __getitem__(self, index: int) -> ModelVersion: ...

    @overload
    def __getitem__(self, index: slice) -> ModelVersionRecords: ...

    def __getitem__(self, index: int | slice) -> ModelVersion | ModelVersionRecords:
        if isinstance(index, slice):
            return ModelVersionRecords(self.records[index])
        r = self.records[index]
        return ModelVersion(
            name=r[0],
            version=r[1],
            creation_timestamp=r[2],
            last_updated_timestamp=r[3],
            current_stage=r[4],
            source=r[5],
            storage_location=r[6],
            user_id=r[7],
            description=r[8],
            run_id=r[9],
            run_link=r[10],
            model_id=r[11],
            status=r[12],
            status_message=r[13],
            tags=r[14],
            aliases=r[15],
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisteredModel:
    name: str
    creation_timestamp: int  # ms since epoch
    last_updated_timestamp: int  # ms since epoch
    user_id: str | None = None
    description: str | None = None
    latest_versions: Sequence[ModelVersion] = ()  # the newest version in each stage
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)  # alias -> version
    deployment_job_id: str | None = None  # the job its new versions run


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelVersionEvent:
    """One entry of a model version's activity log: who did what, when."""

    event_id: int
    name: str
    version: str
    timestamp: int  # ms since epoch
    user_id: str | None
    kind: str  # created, alias_set, alias_deleted, tag_set, tag_deleted, stage_changed, ...
    detail: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class LineageModel:
    """The LoggedModel a version was registered from, as far as lineage needs it."""

    model_id: str
    name: str
    artifact_location: str
    experiment_id: str
    source_run_id: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ModelLineage:
    """Where a model version came from: version -> LoggedModel -> run -> datasets ->
    experiment. A link is None (or empty) when the version does not have it or it is gone."""

    model_version: ModelVersion
    logged_model: LineageModel | None = None
    run: RunInfo | None = None
    dataset_inputs: Sequence[DatasetInput] = ()
    experiment: Experiment | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalog:
    """The top level of a `catalog.schema.model` name."""

    name: str
    creation_timestamp: int  # ms since epoch
    last_updated_timestamp: int  # ms since epoch
    owner: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Schema:
    """A schema of a catalog; registered models named `catalog.schema.model` live in it."""

    catalog_name: str
    name: str
    creation_timestamp: int  # ms since epoch
    last_updated_timestamp: int  # ms since epoch
    owner: str | None = None
    comment: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.catalog_name}.{self.name}"


class WebhookStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    DISABLED = "DISABLED"


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """What a webhook listens to, in MLflow's names: entity MODEL_VERSION, action CREATED."""

    entity: str
    action: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    webhook_id: str
    name: str
    url: str
    events: Sequence[WebhookEvent]
    status: WebhookStatus
    creation_timestamp: int  # ms since epoch
    last_updated_timestamp: int  # ms since epoch
    description: str | None = None
    secret: str | None = None  # never sent back over the wire


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookDelivery:
    """One attempt to deliver one event to one webhook."""

    delivery_id: str
    attempt: int
    webhook_id: str
    entity: str
    action: str
    timestamp: int  # ms since epoch
    success: bool
    status_code: int | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookTestResult:
    """How a receiver answered one test delivery."""

    success: bool
    response_status: int | None = None
    response_body: str | None = None
    error_message: str | None = None
