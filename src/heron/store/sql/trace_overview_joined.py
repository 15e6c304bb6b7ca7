"""The overview's three parts on PostgreSQL for a slice whose passing traces are in a temporary
table (trace_overview_raw.passing_table): each one statement that joins every bucket's index
range to the table and groups by bucket, so the table is hashed once for the whole statement.
The correlated read of each bucket (the SQLite form) probes the table once for each row of
the range, or hashes all of it again for each bucket. Rows have the correlated form's shape:
the bucket's index, then its JSON arrays (a bucket without rows has no row)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, literal_column, select

from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import TOOL_SPAN_TYPE
from heron.store.sql.tables import assessments, spans, traces
from heron.store.sql.trace_analytics_sql import bucket_rows, errors_of, json_agg, json_array

_PG = "postgresql"
_NS: ColumnElement[int] = literal_column("1000000")  # ns in a ms


def _known(values: Any, among: Any) -> Any:
    """The group's values where `among` (the duration) is known, as a JSON array."""
    return json_agg(_PG, values).filter(among.is_not(None))


def joined_traces(experiment_id: int, among: Table) -> Any:
    """Each bucket's counts, tokens, cost and durations' frequency table (as trace_buckets):
    grouped by bucket and duration, then by bucket."""
    bk = bucket_rows(_PG)
    t = traces.c
    in_bucket = and_(t.experiment_id == experiment_id, t.request_time >= bk.c.lo,
                     t.request_time < bk.c.hi)  # fmt: skip
    by_duration = (
        select(
            bk.c.i, t.execution_duration.label("d"), func.count().label("n"),
            errors_of(t.state).label("e"), func.sum(t.input_tokens).label("input"),
            func.sum(t.output_tokens).label("output"), func.sum(t.total_tokens).label("total"),
            func.sum(t.total_cost).label("cost"),
        )
        .select_from(bk.join(traces, in_bucket).join(among, among.c.trace_id == t.trace_id))
        .group_by(bk.c.i, t.execution_duration)
        .subquery()
    )  # fmt: skip
    g = by_duration.c
    stats = json_array(
        _PG, func.sum(g.n), func.sum(g.e),
        *(func.coalesce(func.sum(c), 0) for c in (g.input, g.output, g.total, g.cost)),
    )  # fmt: skip
    frequency = json_array(_PG, _known(g.d, g.d), _known(g.n, g.d))
    return select(g.i, stats, frequency).group_by(g.i).order_by(g.i)


def joined_scores(experiment_id: int, among: Table) -> Any:
    """Each bucket's valid feedback by name (as raw_scores)."""
    bk = bucket_rows(_PG)
    a = assessments.c
    in_bucket = and_(
        a.experiment_id == experiment_id,
        a.trace_time >= bk.c.lo,
        a.trace_time < bk.c.hi,
        a.kind == literal_column(f"'{AssessmentKind.FEEDBACK.value}'"),
        a.valid.is_(True),
    )
    by_name = (
        select(bk.c.i, a.name, func.count(a.score).label("n"), func.sum(a.score).label("total"))
        .select_from(bk.join(assessments, in_bucket).join(among, among.c.trace_id == a.trace_id))
        .group_by(bk.c.i, a.name)
        .subquery()
    )
    g = by_name.c
    arrays = [json_agg(_PG, c) for c in (g.name, g.n, g.total)]
    return select(g.i, json_array(_PG, *arrays)).group_by(g.i)


def joined_tools(experiment_id: int, among: Table) -> Any:
    """Each bucket's TOOL spans by name and whole-ms duration (as raw_tools)."""
    bk = bucket_rows(_PG)
    s = spans.c
    in_bucket = and_(
        s.experiment_id == experiment_id,
        s.span_type == literal_column(f"'{TOOL_SPAN_TYPE}'"),  # the partial index's own words
        s.start_time_ns >= bk.c.lo * _NS,
        s.start_time_ns < bk.c.hi * _NS,
    )
    d = (s.end_time_ns - s.start_time_ns).self_group().op("/")(_NS)
    grouped = (
        select(bk.c.i, s.name, d.label("d"), func.count().label("c"),
               errors_of(s.status).label("e"))
        .select_from(bk.join(spans, in_bucket).join(among, among.c.trace_id == s.trace_id))
        .group_by(bk.c.i, s.name, d)
        .subquery()
    )  # fmt: skip
    g = grouped.c
    arrays = [json_agg(_PG, c) for c in (g.name, g.d, g.c, g.e)]
    return select(g.i, json_array(_PG, *arrays)).group_by(g.i)
