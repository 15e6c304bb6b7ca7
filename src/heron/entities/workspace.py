"""Workspace: a tenant that holds its own experiments and registered models."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_WORKSPACE = "default"


@dataclass(frozen=True, slots=True, kw_only=True)
class Workspace:
    name: str
    description: str | None = None
    default_artifact_root: str | None = None
    created_time: int = 0  # ms since epoch
