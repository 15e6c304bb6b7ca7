"""Background work waiting in the database: what a worker holds once it claimed a piece."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkItem:
    """A piece of work a worker has claimed: it holds it under claim number `claim` until it
    finishes, gives it back, or its lease runs out (then another worker may claim it)."""

    item_id: str
    kind: str
    subject: str  # what it works on (a deployment job run's id)
    payload: Mapping[str, Any] = field(default_factory=dict)
    claim: int = 0
    failures: int = 0  # failed attempts of this step before this claim
    created_at: int = 0  # ms since epoch
