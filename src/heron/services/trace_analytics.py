"""The GenAI views' aggregates of an experiment's traces: the overview over time (in buckets of
a chosen grain), its sessions and its app versions. Reading them needs read access to the
experiment, as reading its traces does."""

from __future__ import annotations

from collections.abc import Sequence

from heron.entities import Page
from heron.entities.trace_analytics import Overview, SessionSummary, VersionStats
from heron.errors import InvalidParameter
from heron.search.traces import parse_trace_filter
from heron.services import validation as v
from heron.services.access import Authorizer, authorize
from heron.store import ids
from heron.store.trace_analytics import SessionQuery, TraceAnalyticsStore, Window

MAX_BUCKETS = 1000  # points per chart (MLflow's trace metrics answer at most 1,000 too)
MIN_GRAIN_MS = 1000
MAX_SESSIONS = 500
MAX_VERSIONS = 100
# Span times are ns in a BIGINT: no window reaches past 2262.
LAST_MS = (2**63 - 1) // 1_000_000
WEEK_MS = 7 * 86_400_000
# How versions read their window: in buckets of the finest of these grains giving at most 200.
VERSION_GRAINS = (60_000, 3_600_000, 86_400_000, WEEK_MS, 52 * WEEK_MS, 520 * WEEK_MS)
_MONDAY_MS = 4 * 86_400_000  # 1970-01-05, the first Monday: weeks start on Mondays (UTC)


def buckets(start_ms: int, end_ms: int, grain_ms: int) -> list[tuple[int, int]]:
    """[start, end) cut into buckets on the grain's boundaries (UTC: whole minutes, hours,
    days; weeks from Monday), the first and last clipped to the window.

    Raises:
        InvalidParameter: an empty window, a grain under a second, or more than MAX_BUCKETS.
    """
    if end_ms <= start_ms:
        raise InvalidParameter(f"The window is empty: it ends ({end_ms}) before it starts")
    if grain_ms < MIN_GRAIN_MS:
        raise InvalidParameter(f"The grain must be at least {MIN_GRAIN_MS} ms, got {grain_ms}")
    origin = _MONDAY_MS if grain_ms % WEEK_MS == 0 else 0
    first = start_ms - (start_ms - origin) % grain_ms
    count = -(-(end_ms - first) // grain_ms)
    if count > MAX_BUCKETS:
        raise InvalidParameter(
            f"{count} points of {grain_ms} ms each are too many for one chart (at most "
            f"{MAX_BUCKETS}); choose a coarser grain or a shorter window"
        )
    return [
        (max(b, start_ms), min(b + grain_ms, end_ms))
        for b in range(first, first + count * grain_ms, grain_ms)
    ]


class TraceAnalyticsService:
    def __init__(self, store: TraceAnalyticsStore, authorizer: Authorizer) -> None:
        self._store = store
        self._authorizer = authorizer

    def _window(
        self, experiment_id: str, start_ms: int, end_ms: int, filter_string: str | None
    ) -> Window:
        experiment_id = ids.experiment_id(experiment_id)
        authorize(self._authorizer, "read", "experiment", experiment_id)
        return Window(
            experiment_id=experiment_id,
            start_ms=min(max(start_ms, 0), LAST_MS),
            end_ms=min(max(end_ms, 0), LAST_MS),
            filter=parse_trace_filter(filter_string),
        )

    def overview(
        self,
        experiment_id: str,
        *,
        start_ms: int,
        end_ms: int,
        grain_ms: int,
        filter_string: str | None = None,
    ) -> Overview:
        """The experiment's traces that started in [start_ms, end_ms) and pass the filter
        (the trace search grammar), in buckets of `grain_ms`.

        Raises:
            InvalidParameter: a bad window, grain or filter.
        """
        window = self._window(experiment_id, start_ms, end_ms, filter_string)
        return self._store.overview(window, buckets(window.start_ms, window.end_ms, grain_ms))

    def sessions(
        self,
        experiment_id: str,
        *,
        start_ms: int,
        end_ms: int,
        filter_string: str | None = None,
        max_results: int = 50,
        page_token: str | None = None,
    ) -> Page[SessionSummary]:
        """The sessions (`mlflow.trace.session`) with traces in the window that pass the
        filter, the latest activity first; each counts only those traces.

        Raises:
            InvalidParameter: a bad window, filter, max_results or page token.
        """
        window = self._window(experiment_id, start_ms, end_ms, filter_string)
        if window.end_ms <= window.start_ms:
            raise InvalidParameter("The window is empty: it ends before it starts")
        query = SessionQuery(
            window=window,
            max_results=v.check_max_results(max_results, MAX_SESSIONS),
            page_token=page_token or None,
        )
        return self._store.sessions(query)

    def versions(
        self,
        experiment_id: str,
        model_ids: Sequence[str],
        *,
        start_ms: int,
        end_ms: int,
        filter_string: str | None = None,
    ) -> list[VersionStats]:
        """Each app version's (LoggedModel id's) traces in the window, in the order given,
        then the traces without a version when there are any.

        Raises:
            InvalidParameter: a bad window or filter, or too many versions.
        """
        window = self._window(experiment_id, start_ms, end_ms, filter_string)
        if len(model_ids) > MAX_VERSIONS:
            raise InvalidParameter(f"At most {MAX_VERSIONS} versions at once, got {len(model_ids)}")
        for model_id in model_ids:
            v.check_text("A model id", model_id)
        grain = next(g for g in VERSION_GRAINS if (window.end_ms - window.start_ms) / g <= 200)
        chunks = (
            buckets(window.start_ms, window.end_ms, grain)
            if window.end_ms > window.start_ms
            else []
        )
        return self._store.versions(window, list(model_ids), chunks)
