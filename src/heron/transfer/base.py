"""What every aggregate's copy shares: the two clients, the id maps, progress and files.

A transfer reads one side and writes the other through `HeronClient`s, so either side may be
a Heron data directory or database (in process), a Heron server, or an MLflow server (both
speak MLflow's REST API). Each copied object carries a `heron.source.*` tag naming its
source id on the target: a second run finds it there and copies nothing twice."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from heron.client import artifacts
from heron.client.client import HeronClient
from heron.entities import Page

T = TypeVar("T")

SOURCE_RUN = "heron.source.run_id"
SOURCE_MODEL = "heron.source.model_id"
SOURCE_VERSION = "heron.source.version"
COMPLETE = "heron.source.complete"  # set last: a run without it was cut short, and is redone


class Progress(Protocol):
    def start(self, aggregate: str, total: int | None) -> None: ...

    def advance(self, aggregate: str, n: int = 1) -> None: ...


class NoProgress:
    def start(self, aggregate: str, total: int | None) -> None:
        pass

    def advance(self, aggregate: str, n: int = 1) -> None:
        pass


@dataclass
class Counts:
    copied: int = 0
    skipped: int = 0  # already on the target from an earlier run


@dataclass
class Transfer:
    """One copy from `source` to `target`. The maps hold source id -> target id."""

    source: HeronClient
    target: HeronClient
    progress: Progress = field(default_factory=NoProgress)
    experiments: dict[str, str] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)  # logged models
    artifact_uris: dict[str, str] = field(default_factory=dict)  # runs' and models' roots
    counts: dict[str, Counts] = field(default_factory=dict)

    def count(self, aggregate: str, *, copied: bool) -> None:
        counts = self.counts.setdefault(aggregate, Counts())
        if copied:
            counts.copied += 1
        else:
            counts.skipped += 1
        self.progress.advance(aggregate)

    def copy_files(self, source_uri: str, target_uri: str) -> int:
        """Every file under one artifact URI of the source to one of the target; the count.
        Files pass through a temporary directory, one tree at a time."""
        if not artifacts.list_all(self.source.backend.artifacts, source_uri, ""):
            return 0
        with tempfile.TemporaryDirectory(prefix="heron-transfer-") as tmp:
            artifacts.download(self.source.backend.artifacts, source_uri, "", tmp)
            return artifacts.upload_tree(self.target.backend.artifacts, target_uri, Path(tmp), "")


class Aggregate(Protocol):
    """One kind of object a transfer copies. Later aggregates (serving endpoints, ...) join
    `heron.transfer.AGGREGATES` with their own module."""

    name: str

    def copy(self, transfer: Transfer) -> None: ...


def every(search: Callable[..., Page[T]], **query: Any) -> list[T]:
    """Every item of a paged search method called with `query`."""
    found: list[T] = []
    token: str | None = None
    while True:
        page = search(**query, page_token=token)
        found.extend(page.items)
        token = page.next_page_token
        if not token:
            return found
