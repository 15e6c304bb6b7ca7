"""Deleted: something deleted softly (a run, a logged model, an experiment) that `heron gc` can
remove for good, with where its files are."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class DeletedKind(enum.Enum):
    RUN = "run"
    LOGGED_MODEL = "logged_model"
    EXPERIMENT = "experiment"


@dataclass(frozen=True, slots=True, kw_only=True)
class Deleted:
    kind: DeletedKind
    id: str
    experiment_id: str  # its own id, for an experiment
    artifact_uri: str  # a run's or model's artifact root; an experiment's artifact location
    deleted_time: int  # ms since epoch
