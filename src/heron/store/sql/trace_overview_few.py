"""The overview of a filter that leaves few traces (one user, one session, a rare tag): the
traces are read once through the filter, their assessments and TOOL spans by trace id, and
bucketed here, instead of probing every assessment and tool span of the window for the
filter. Tool calls count the spans of traces that started at most a day before the window
(the raw query's own rule would be any earlier trace: a longer one's later tools are left
out here)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, literal_column, select

from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import TOOL_SPAN_TYPE
from heron.store.sql.json_sql import bound_list, in_bound_list
from heron.store.sql.tables import assessments, spans, traces
from heron.store.sql.trace_overview_raw import DAY_MS
from heron.store.sql.trace_overview_sums import ScoreSums, ToolSums, TraceSums

FEW = 5_000  # at most this many traces (in the window and the day before) take this path
_T = traces.c
_TRACES = (_T.trace_id, _T.request_time, _T.state, _T.execution_duration, _T.input_tokens,
           _T.output_tokens, _T.total_tokens, _T.total_cost)  # fmt: skip
_A = assessments.c
_SCORES = select(_A.trace_time, _A.name, _A.score).where(
    in_bound_list(_A.trace_id),
    _A.kind == literal_column(f"'{AssessmentKind.FEEDBACK.value}'"),
    _A.valid.is_(True),
)
_S = spans.c
_TOOLS = select(_S.start_time_ns, _S.end_time_ns, _S.name, _S.status).where(
    in_bound_list(_S.trace_id), _S.span_type == literal_column(f"'{TOOL_SPAN_TYPE}'")
)


class Few:
    """The traces of a window that pass a filter, when there are at most FEW of them."""

    def __init__(self, rows: Sequence[Any], buckets: Sequence[tuple[int, int]]) -> None:
        self.rows = rows
        self.buckets = buckets
        self._starts = [b[0] for b in buckets]

    def bucket(self, at_ms: int | None) -> int | None:
        """The index of the bucket holding `at_ms`, None outside the window."""
        if at_ms is None or at_ms < self.buckets[0][0] or at_ms >= self.buckets[-1][1]:
            return None
        return bisect.bisect_right(self._starts, at_ms) - 1

    def in_window(self) -> list[str]:
        return [row[0] for row in self.rows if self.bucket(row[1]) is not None]


def few_traces(
    conn: Connection,
    experiment_id: int,
    conditions: list[Any],
    buckets: Sequence[tuple[int, int]],
    few: int = FEW,
) -> Few | None:
    """The filtered traces of the window (and of the day before it), or None past `few`."""
    query = (
        select(*_TRACES)
        .where(
            _T.experiment_id == experiment_id,
            _T.request_time >= buckets[0][0] - DAY_MS,
            _T.request_time < buckets[-1][1],
            *conditions,
        )
        .order_by(_T.request_time)  # the window's index range, not the filter's table
        .limit(few + 1)
    )
    rows = conn.execute(query).all()
    return Few(rows, buckets) if len(rows) <= few else None


def trace_figures(few: Few) -> TraceSums:
    sums = TraceSums(len(few.buckets))
    for _, at, state, duration, *tokens, cost in few.rows:
        i = few.bucket(at)
        if i is not None:
            known = duration is not None
            sums.add(i, (1, state == "ERROR", *tokens, cost), (duration,) * known, (1,) * known)
    return sums


def scores(conn: Connection, few: Few) -> ScoreSums:
    """Valid feedback of the window's filtered traces, by name and bucket."""
    sums = ScoreSums()
    for at, name, score in conn.execute(_SCORES, {"ids": bound_list(few.in_window())}):
        i = few.bucket(at)
        if i is not None:
            sums.add(name, i, score is not None, score)
    return sums


def tools(conn: Connection, few: Few) -> ToolSums:
    """TOOL spans of the filtered traces that started in the window, by name and bucket."""
    sums = ToolSums()
    trace_ids = [row[0] for row in few.rows]
    for start, end, name, status in conn.execute(_TOOLS, {"ids": bound_list(trace_ids)}):
        i = few.bucket(start // 1_000_000)
        if i is not None:
            known = end is not None
            sums.add(name, i, 1, status == "ERROR", ((end - start) // 1_000_000,) * known,
                     (1,) * known)  # fmt: skip
    return sums
