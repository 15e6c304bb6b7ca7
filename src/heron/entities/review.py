"""Human review: label schemas (the questions reviewers answer), review queues of traces
assigned to reviewers, and the items of a queue with their status."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class LabelSchemaType(enum.Enum):
    """Whether a reviewer's answer is recorded as feedback or as an expectation."""

    FEEDBACK = "FEEDBACK"
    EXPECTATION = "EXPECTATION"


class ReviewQueueType(enum.Enum):
    """A USER queue belongs to one reviewer and asks every schema of its experiment; a
    CUSTOM queue has a name, 0 to 10 reviewers and a chosen set of schemas."""

    USER = "USER"
    CUSTOM = "CUSTOM"


class ReviewStatus(enum.Enum):
    PENDING = "PENDING"
    COMPLETE = "COMPLETE"
    DECLINED = "DECLINED"


class ReviewItemType(enum.Enum):
    TRACE = "TRACE"


@dataclass(frozen=True, slots=True, kw_only=True)
class InputPassFail:
    positive_label: str = "Pass"
    negative_label: str = "Fail"


@dataclass(frozen=True, slots=True, kw_only=True)
class InputCategorical:
    options: tuple[str, ...]
    multi_select: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class InputNumeric:
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class InputText:
    max_length: int | None = None


LabelInput = InputPassFail | InputCategorical | InputNumeric | InputText


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelSchema:
    """One question of an experiment; its `name` is the name of the assessments it makes."""

    schema_id: str
    experiment_id: str
    name: str
    type: LabelSchemaType
    input: LabelInput
    instruction: str | None = None
    enable_comment: bool = False
    created_by: str | None = None
    created_at: int = 0  # ms since epoch
    last_updated_at: int = 0  # ms since epoch
    is_default: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewQueue:
    queue_id: str
    experiment_id: str
    name: str
    queue_type: ReviewQueueType
    created_by: str | None
    creation_time_ms: int
    last_update_time_ms: int
    users: tuple[str, ...] = ()
    schema_ids: tuple[str, ...] = ()  # empty for a USER queue: it asks every schema


@dataclass(frozen=True, slots=True, kw_only=True)
class ReviewQueueItem:
    queue_id: str
    item_id: str  # a trace id
    item_type: ReviewItemType
    status: ReviewStatus
    creation_time_ms: int
    last_update_time_ms: int
    completed_by: str | None = None  # set while COMPLETE or DECLINED
    completed_time_ms: int | None = None
