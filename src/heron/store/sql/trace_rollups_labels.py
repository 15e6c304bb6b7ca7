"""The labels the overview's rollups are kept by: a trace's tags (but the two naming where its
data lives), each keyed as the search grammar spells the field (`tag.team`). A tag with more
than LABEL_VALUES values among an hour's traces, or a value longer than LABEL_LENGTH, is left
out of every hour a build makes (a cut: the overview reads those hours raw for it), which
keeps an id-like tag from making a row of each trace."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Text, cast, func, or_, select

from heron.entities import reserved
from heron.search.traces import TraceClause
from heron.store.sql.tables import trace_tags, traces
from heron.store.sql.trace_analytics_sql import json_agg
from heron.store.sql.traces_search import key_value_of

LABEL_VALUES = 50  # an hour's rows keep a tag of at most this many values
LABEL_LENGTH = 250  # each at most this long (an index holds it)
EVERY_TRACE = ""  # the label_key of the rows that count every trace
_PREFIX = "tag."
_UNLABELED = (reserved.TRACE_ARTIFACT_LOCATION, reserved.TRACE_SPANS_LOCATION)
_HOUR = 3_600_000


def label_of(c: TraceClause) -> str | None:
    """The label_key of a filter clause on one of the trace's tags (its name is one), None if
    the rollups keep none."""
    found = key_value_of(c)
    if found is None or found[0] is not trace_tags or found[1] in _UNLABELED:
        return None
    return _PREFIX + found[1]


def labelled(pairs: Sequence[Sequence[str]]) -> list[tuple[str, str]]:
    """The rows' labels of a trace holding the tags `pairs` (labels_of's): every trace's,
    then one for each tag."""
    return [(EVERY_TRACE, ""), *((_PREFIX + key, value) for key, value in pairs)]


def cut_tags(conn: Connection, started: Sequence[Any]) -> list[str]:
    """The tag keys too many-valued or too long to keep, among the traces of `started` (the
    conditions on `traces` of a build's hours): each hour is counted apart."""
    t, g = traces.c, trace_tags.c
    many = (
        select(g.key)
        .join_from(traces, trace_tags, g.trace_id == t.trace_id)
        .where(*started, g.key.not_in(_UNLABELED))
        .group_by(t.request_time // _HOUR, g.key)
        .having(
            or_(
                func.count(g.value.distinct()) > LABEL_VALUES,
                func.max(func.length(g.value)) > LABEL_LENGTH,
            )
        )
    )
    return sorted({key for (key,) in conn.execute(many)})


def cut_rows(experiment_id: int, hours: Sequence[int], cut: Sequence[str]) -> list[dict[str, Any]]:
    """The trace_rollup_cuts rows of a build of `hours` leaving out the tags `cut`."""
    return [
        {"experiment_id": experiment_id, "hour_ms": hour, "label_key": _PREFIX + key}
        for hour in hours
        for key in cut
    ]


def labels_of(dialect: str, trace_id: Any, cut: Sequence[str]) -> Any:
    """The tags of the trace `trace_id` (but those cut and those never labels), as one JSON
    array of [key, value] pairs."""
    g = trace_tags.alias("label").c
    pair = (func.json_build_array if dialect == "postgresql" else func.json_array)(g.key, g.value)
    pairs = json_agg(dialect, pair)
    query = select(cast(pairs, Text())).where(
        g.trace_id == trace_id, g.key.not_in([*_UNLABELED, *cut])
    )
    return query.scalar_subquery()
