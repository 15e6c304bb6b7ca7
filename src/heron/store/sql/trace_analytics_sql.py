"""SQL building blocks of the GenAI views' aggregates, for SQLite and PostgreSQL: time buckets
bound as one JSON parameter, percentiles interpolated as PostgreSQL's percentile_cont (its own
there; on SQLite from a frequency table and running counts), JSON arrays the database builds.

Percentiles are exact: for n sorted values x0..x(n-1) and a fraction p, h = (n - 1) * p and the
answer is x[floor h] + (h - floor h) * (x[floor h + 1] - x[floor h])."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Select,
    Subquery,
    Text,
    case,
    cast,
    column,
    func,
    literal_column,
    select,
    text,
)

from heron.entities.trace_analytics import PERCENTILES, Latency

_BUCKETS = {
    "sqlite": (
        "SELECT CAST(key AS INTEGER) AS i, json_extract(value, '$[0]') AS lo, "
        "json_extract(value, '$[1]') AS hi FROM json_each(:buckets)"
    ),
    "postgresql": (
        "SELECT CAST(b.ord - 1 AS INTEGER) AS i, CAST(b.e ->> 0 AS BIGINT) AS lo, "
        "CAST(b.e ->> 1 AS BIGINT) AS hi "
        "FROM jsonb_array_elements(CAST(:buckets AS JSONB)) WITH ORDINALITY AS b(e, ord)"
    ),
}


def bucket_rows(dialect: str) -> Subquery:
    """The buckets bound as {"buckets": bucket_list(...)}: rows (i, lo, hi), i from 0."""
    return (
        text(_BUCKETS[dialect])
        .columns(column("i", Integer), column("lo", BigInteger), column("hi", BigInteger))
        .subquery("bk")
    )


def bucket_list(buckets: Sequence[tuple[int, int]]) -> str:
    return orjson.dumps([list(b) for b in buckets]).decode()


def json_array(dialect: str, *values: Any) -> Any:
    """One JSON array (as text) of the values, built by the database."""
    if dialect == "postgresql":
        return cast(func.json_build_array(*values), Text())
    return func.json_array(*values)


def json_agg(dialect: str, value: Any) -> Any:
    """The group's values as one JSON array (as text); NULL for no rows on PostgreSQL."""
    if dialect == "postgresql":
        return cast(func.json_agg(value), Text())
    return func.json_group_array(value)


def errors_of(status: ColumnElement[Any]) -> Any:
    """How many rows of the group have status ERROR (a literal, so indexes may match it)."""
    return func.coalesce(func.sum(case((status == literal_column("'ERROR'"), 1), else_=0)), 0)


def percentiles(dialect: str, rows: Subquery, group: str | None = None) -> Select[Any]:
    """(group?, p50, p90, p99) of the column `d` of `rows`, for each value of its column
    `group` (or once for all rows). Rows whose d is NULL are left out."""
    keys = [rows.c[group]] if group else []
    picks: list[Any]
    if dialect == "postgresql":
        picks = [
            func.percentile_cont(literal_column(repr(p))).within_group(rows.c.d)
            for p in PERCENTILES
        ]
        return select(*keys, *picks).where(rows.c.d.is_not(None)).group_by(*keys)
    frequency = (
        select(*keys, rows.c.d, func.count().label("c"))
        .where(rows.c.d.is_not(None))
        .group_by(*keys, rows.c.d)
        .subquery()
    )
    part = [frequency.c[group]] if group else []
    ranked = select(
        *part,
        frequency.c.d,
        func.sum(frequency.c.c).over(partition_by=part, order_by=frequency.c.d).label("cum"),
        func.sum(frequency.c.c).over(partition_by=part).label("n"),
    ).subquery()
    picks = []
    for p in PERCENTILES:
        h = (ranked.c.n - 1) * literal_column(repr(p))
        k = cast(h, Integer)  # floor: h is never negative
        low = func.min(case((ranked.c.cum > k, ranked.c.d)))
        high = func.coalesce(func.min(case((ranked.c.cum > k + 1, ranked.c.d))), low)
        picks.append(low + (func.max(h) - func.max(k)) * (high - low))
    outer = [ranked.c[group]] if group else []
    return select(*outer, *picks).group_by(*outer)


def percentiles_json(dialect: str, rows: Subquery) -> Any:
    """The percentiles of `rows`'s `d` as one JSON array [p50, p90, p99] (a scalar subquery,
    correlated as `rows` is)."""
    picked = percentiles(dialect, rows).subquery()
    return select(json_array(dialect, *picked.c)).scalar_subquery()


def latency(values: Sequence[Any] | None) -> Latency:
    """A Latency from [p50, p90, p99] (numbers or None)."""
    if not values:
        return Latency()
    p50, p90, p99 = (None if v is None else float(v) for v in values)
    return Latency(p50=p50, p90=p90, p99=p99)
