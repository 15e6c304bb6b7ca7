"""Files kept for runs, logged models and traces."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class FileInfo:
    path: str  # relative to the directory that was listed's root, "/"-separated
    is_dir: bool
    file_size: int | None = None  # bytes; None for directories
