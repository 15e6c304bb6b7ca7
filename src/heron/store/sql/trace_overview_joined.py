"""The overview's three parts on PostgreSQL for a slice whose passing traces are in a temporary
table (trace_overview_raw.passing_table): each one statement that reads the index range from
the first bucket's start to the last one's end, hash-joined to the table (hashed once), and
groups the rows by bucket (width_bucket of the buckets' starts; a row past its bucket's end,
in a gap between buckets, is left out). The correlated read of each bucket (the SQLite form)
probes the table once for each row of the range, or hashes all of it again for each bucket.
The buckets must be in ascending order, as a window's are. Rows have the correlated form's
shape: the bucket's index, then its JSON arrays (a bucket without rows has no row)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, and_, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by

from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import TOOL_SPAN_TYPE
from heron.store.sql.tables import assessments, spans, traces
from heron.store.sql.trace_analytics_sql import bucket_rows, errors_of, json_agg, json_array

_PG = "postgresql"
_NS: ColumnElement[int] = literal_column("1000000")  # ns in a ms


def _bucketed(column: Any, scale: Any = None) -> tuple[Any, list[Any], Any]:
    """The bucket list as rows (to join on its index), the conditions putting `column` (ms,
    or ns with scale) in the span of the buckets (an index range), and the join condition of
    its bucket (width_bucket of the starts, and before that bucket's end: none in a gap)."""
    bk = bucket_rows(_PG)
    edges = bucket_rows(_PG).alias("edges")
    first = select(func.min(edges.c.lo)).scalar_subquery()
    last = select(func.max(edges.c.hi)).scalar_subquery()
    starts = select(func.array_agg(aggregate_order_by(edges.c.lo, edges.c.i))).scalar_subquery()
    span = [column >= first, column < last]
    at = column
    if scale is not None:
        span = [column >= first * scale, column < last * scale]
        at = column.op("/")(scale)  # whole ms, as `column >= lo * scale` reads them
    return bk, span, and_(bk.c.i == func.width_bucket(at, starts) - 1, at < bk.c.hi)


def _known(values: Any, among: Any) -> Any:
    """The group's values where `among` (the duration) is known, as a JSON array."""
    return json_agg(_PG, values).filter(among.is_not(None))


def joined_traces(experiment_id: int, among: Table) -> Any:
    """Each bucket's counts, tokens, cost and durations' frequency table (as trace_buckets):
    grouped by bucket and duration, then by bucket."""
    t = traces.c
    bk, span, in_bucket = _bucketed(t.request_time)
    by_duration = (
        select(
            bk.c.i, t.execution_duration.label("d"), func.count().label("n"),
            errors_of(t.state).label("e"), func.sum(t.input_tokens).label("input"),
            func.sum(t.output_tokens).label("output"), func.sum(t.total_tokens).label("total"),
            func.sum(t.total_cost).label("cost"),
        )
        .select_from(traces.join(among, among.c.trace_id == t.trace_id).join(bk, in_bucket))
        .where(t.experiment_id == experiment_id, *span)
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
    a = assessments.c
    bk, span, in_bucket = _bucketed(a.trace_time)
    by_name = (
        select(bk.c.i, a.name, func.count(a.score).label("n"), func.sum(a.score).label("total"))
        .select_from(assessments.join(among, among.c.trace_id == a.trace_id).join(bk, in_bucket))
        .where(
            a.experiment_id == experiment_id,
            *span,
            a.kind == literal_column(f"'{AssessmentKind.FEEDBACK.value}'"),
            a.valid.is_(True),
        )
        .group_by(bk.c.i, a.name)
        .subquery()
    )
    g = by_name.c
    arrays = [json_agg(_PG, c) for c in (g.name, g.n, g.total)]
    return select(g.i, json_array(_PG, *arrays)).group_by(g.i)


def joined_tools(experiment_id: int, among: Table) -> Any:
    """Each bucket's TOOL spans by name and whole-ms duration (as raw_tools)."""
    s = spans.c
    bk, span, in_bucket = _bucketed(s.start_time_ns, _NS)
    d = (s.end_time_ns - s.start_time_ns).self_group().op("/")(_NS)
    grouped = (
        select(bk.c.i, s.name, d.label("d"), func.count().label("c"),
               errors_of(s.status).label("e"))
        .select_from(spans.join(among, among.c.trace_id == s.trace_id).join(bk, in_bucket))
        .where(
            s.experiment_id == experiment_id,
            s.span_type == literal_column(f"'{TOOL_SPAN_TYPE}'"),  # the partial index's words
            *span,
        )
        .group_by(bk.c.i, s.name, d)
        .subquery()
    )  # fmt: skip
    g = grouped.c
    arrays = [json_agg(_PG, c) for c in (g.name, g.d, g.c, g.e)]
    return select(g.i, json_array(_PG, *arrays)).group_by(g.i)
