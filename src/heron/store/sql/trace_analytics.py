"""SqlTraceAnalyticsStore: the GenAI views' aggregates (overview, sessions, versions) in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from heron.entities import Page
from heron.entities.trace_analytics import Overview, SessionSummary, VersionStats
from heron.store.sql.database import Database
from heron.store.sql.trace_overview import overview
from heron.store.sql.trace_sessions import sessions
from heron.store.sql.trace_versions import versions
from heron.store.trace_analytics import SessionQuery, Window


class SqlTraceAnalyticsStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    def overview(self, window: Window, buckets: Sequence[tuple[int, int]]) -> Overview:
        return overview(self._db, window, buckets)

    def sessions(self, query: SessionQuery) -> Page[SessionSummary]:
        with self._db.read() as conn:
            return sessions(conn, query)

    def versions(
        self, window: Window, model_ids: Sequence[str], buckets: Sequence[tuple[int, int]]
    ) -> list[VersionStats]:
        with self._db.read() as conn:
            return versions(conn, window, model_ids, buckets)
