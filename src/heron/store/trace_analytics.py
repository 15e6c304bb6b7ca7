"""The port of the GenAI views' aggregates: an experiment's traces over time, its sessions and
its app versions, each computed by the database over the trace, span and assessment rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from heron.entities import Page
from heron.entities.trace_analytics import Overview, SessionSummary, VersionStats
from heron.search.traces import TraceClause


@dataclass(frozen=True, slots=True, kw_only=True)
class Window:
    """The traces of one experiment that started in [start_ms, end_ms) and pass `filter`
    (the trace search grammar's clauses)."""

    experiment_id: str
    start_ms: int
    end_ms: int
    filter: Sequence[TraceClause] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionQuery:
    window: Window
    max_results: int = 50
    page_token: str | None = None


class TraceAnalyticsStore(Protocol):
    def overview(self, window: Window, buckets: Sequence[tuple[int, int]]) -> Overview:
        """Trace volume, errors, latency percentiles, tokens and cost in each bucket
        ([start_ms, end_ms) pairs inside the window, in order) and over the whole window;
        feedback scores by name and bucket; tool calls by name (and by bucket)."""
        ...

    def sessions(self, query: SessionQuery) -> Page[SessionSummary]:
        """The sessions with traces in the window, the latest activity first, keyset-paged.
        Raises InvalidParameter for a bad page token."""
        ...

    def versions(
        self, window: Window, model_ids: Sequence[str], buckets: Sequence[tuple[int, int]]
    ) -> list[VersionStats]:
        """The window's traces by app version (`mlflow.modelId`): one entry for each of
        `model_ids`, in that order (empty ones too), then one for the traces without a
        version (model_id None) when there are any. `buckets` cut the window as for
        `overview` (each is read on its own; the figures are the window's)."""
        ...
