"""SqlTraceAnalyticsStore: the GenAI views' aggregates (overview, sessions, versions) in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from heron.entities import Page
from heron.entities.trace_analytics import Overview, SessionSummary, VersionStats
from heron.store.crypto.fields import Sealer
from heron.store.sql.database import Database
from heron.store.sql.trace_overview import overview
from heron.store.sql.trace_sessions import sessions
from heron.store.sql.trace_versions import versions
from heron.store.sql.traces_sealed import refuse_sealed_clauses
from heron.store.trace_analytics import SessionQuery, Window


class SqlTraceAnalyticsStore:
    """The GenAI views; with field encryption on, `sealer` opens the sessions' first
    requests and refuses filters on sealed content."""

    def __init__(self, database: Database, sealer: Sealer | None = None) -> None:
        self._db = database
        self._sealer = sealer or Sealer(None)

    def overview(self, window: Window, buckets: Sequence[tuple[int, int]]) -> Overview:
        refuse_sealed_clauses(self._sealer, window.filter)
        return overview(self._db, window, buckets)

    def sessions(self, query: SessionQuery) -> Page[SessionSummary]:
        refuse_sealed_clauses(self._sealer, query.window.filter)
        with self._db.read() as conn:
            return sessions(conn, query, self._sealer)

    def versions(
        self, window: Window, model_ids: Sequence[str], buckets: Sequence[tuple[int, int]]
    ) -> list[VersionStats]:
        refuse_sealed_clauses(self._sealer, window.filter)
        return versions(self._db, window, model_ids, buckets)
