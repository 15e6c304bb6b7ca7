"""The overview of a filter that leaves few traces (one user, one session, a rare tag): the
traces are read once through the filter, their assessments and TOOL spans by trace id, and
bucketed here, instead of probing every assessment and tool span of the window for the
filter. Tool calls count the spans of traces that started at most a day before the window
(the raw query's own rule would be any earlier trace: a longer one's later tools are left
out here)."""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, literal_column, select

from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import (
    TOOL_SPAN_TYPE,
    Score,
    ScorePoint,
    Tool,
    ToolPoint,
    TraceBucket,
)
from heron.store.sql.json_sql import bound_list, in_bound_list
from heron.store.sql.tables import assessments, spans, traces
from heron.store.sql.trace_analytics_sql import Frequencies

FEW = 5_000  # at most this many traces (in the window and the day before) take this path
_DAY_MS = 86_400_000
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
            _T.request_time >= buckets[0][0] - _DAY_MS,
            _T.request_time < buckets[-1][1],
            *conditions,
        )
        .limit(few + 1)
    )
    rows = conn.execute(query).all()
    return Few(rows, buckets) if len(rows) <= few else None


def trace_figures(few: Few) -> tuple[list[TraceBucket], TraceBucket]:
    sums: list[list[Any]] = [[0, 0, 0, 0, 0, 0.0] for _ in few.buckets]
    tables = [Frequencies() for _ in few.buckets]
    for _, at, state, duration, *tokens, cost in few.rows:
        i = few.bucket(at)
        if i is None:
            continue
        figures = (1, state == "ERROR", *(t or 0 for t in tokens), cost or 0.0)
        for k, value in enumerate(figures):
            sums[i][k] += value
        if duration is not None:
            tables[i].add((duration,), (1,))
    filled = []
    window = Frequencies()
    for (start, end), (n, errors, input_, output, total, cost), table in zip(
        few.buckets, sums, tables, strict=True
    ):
        window.add(list(table.counts), list(table.counts.values()))
        filled.append(
            TraceBucket(start_ms=start, end_ms=end, traces=n, errors=errors,
                        latency=table.latency(), input_tokens=input_, output_tokens=output,
                        total_tokens=total, cost=cost)
        )  # fmt: skip
    totals = TraceBucket(
        start_ms=0, end_ms=0, traces=sum(b.traces for b in filled),
        errors=sum(b.errors for b in filled), latency=window.latency(),
        input_tokens=sum(b.input_tokens for b in filled),
        output_tokens=sum(b.output_tokens for b in filled),
        total_tokens=sum(b.total_tokens for b in filled), cost=sum(b.cost for b in filled),
    )  # fmt: skip
    return filled, totals


def scores(conn: Connection, few: Few) -> list[Score]:
    """Valid feedback of the window's filtered traces, by name and bucket."""
    sums: dict[str, dict[int, list[float]]] = defaultdict(dict)
    for at, name, score in conn.execute(_SCORES, {"ids": bound_list(few.in_window())}):
        i = few.bucket(at)
        if i is None:
            continue
        point = sums[name].setdefault(i, [0, 0.0])
        if score is not None:
            point[0] += 1
            point[1] += score
    found = []
    for name in sorted(sums):
        series = [
            ScorePoint(start_ms=few.buckets[i][0], end_ms=few.buckets[i][1], count=int(n),
                       mean=total / n if n else None)
            for i, (n, total) in sorted(sums[name].items())
        ]  # fmt: skip
        count = sum(p.count for p in series)
        total = sum(t for n, t in sums[name].values())
        found.append(
            Score(name=name, count=count, mean=total / count if count else None, points=series)
        )
    return found


def tools(conn: Connection, few: Few) -> list[Tool]:
    """TOOL spans of the filtered traces that started in the window, by name and bucket."""
    calls: dict[str, dict[int, list[int]]] = defaultdict(dict)
    latency: dict[str, Frequencies] = defaultdict(Frequencies)
    trace_ids = [row[0] for row in few.rows]
    for start, end, name, status in conn.execute(_TOOLS, {"ids": bound_list(trace_ids)}):
        i = few.bucket(start // 1_000_000)
        if i is None:
            continue
        point = calls[name].setdefault(i, [0, 0])
        point[0] += 1
        point[1] += status == "ERROR"
        if end is not None:
            latency[name].add(((end - start) // 1_000_000,), (1,))
    found = []
    for name, by_bucket in calls.items():
        points = [
            ToolPoint(start_ms=few.buckets[i][0], end_ms=few.buckets[i][1], calls=n, errors=e)
            for i, (n, e) in sorted(by_bucket.items())
        ]
        found.append(
            Tool(name=name, calls=sum(p.calls for p in points),
                 errors=sum(p.errors for p in points), latency=latency[name].latency(),
                 points=points)
        )  # fmt: skip
    return sorted(found, key=lambda t: (-t.calls, t.name))
