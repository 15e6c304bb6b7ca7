"""A filter's tag and metadata clauses read as index ranges (PostgreSQL; SQLite keeps the
per-trace conditions) pick exactly the traces the search's own conditions pick, for every
operator, long values (past what the first index holds) and short ones alike, and two clauses
at once; and the overview that reads a window through them stays true to the raw rows."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select
from tests.services.test_trace_analytics import (  # noqa: F401 - traces: the fixture
    HOUR,
    MODEL,
    T0,
    USER,
    feedback,
    log_trace,
    traces,
)

from heron.search.traces import parse_trace_filter
from heron.services.trace_analytics import buckets as cut
from heron.services.traces import TraceService
from heron.store.sql.tables import SHORT_VALUE
from heron.store.sql.tables import traces as trace_rows
from heron.store.sql.trace_key_values import passing_traces
from heron.store.sql.trace_overview import overview
from heron.store.sql.traces_search import condition
from heron.store.trace_analytics import Window

MINUTE = 60_000
LONG = "a" * SHORT_VALUE + "-long"  # one past the short values' index, sharing their prefix
EDGE = "a" * SHORT_VALUE  # the longest value the short values' index holds
TEAMS = ("search", "Search-2", "chat", LONG, EDGE, None)
FILTERS = (
    "tags.team = 'search'",
    "tags.team != 'search'",
    "tags.team LIKE 'sea%'",
    "tags.team ILIKE 'SEA%'",
    "tags.team LIKE '%-long'",
    f"tags.team = '{LONG}'",
    f"tags.team = '{EDGE}'",
    f"tags.team != '{LONG}'",
    "tags.team IN ('chat', 'search')",
    "tags.team NOT IN ('chat', 'search')",
    "tags.team RLIKE '^[sS]'",
    "tags.team IS NULL",
    "tags.team IS NOT NULL",
    "metadata.region = 'eu'",
    "metadata.region LIKE '%u%'",
    f"metadata.note = '{LONG}'",
    f"metadata.`{USER}` LIKE 'user-%'",
    "trace.name = 'agent'",
    "tags.team LIKE 'sea%' AND metadata.region = 'eu'",
    "tags.team != 'chat' AND tags.team IS NOT NULL AND trace.status = 'OK'",
)


@pytest.fixture
def exp(stores: Any, traces: TraceService) -> str:  # noqa: F811
    made = str(stores.experiments.create_experiment(
        f"key-values-{uuid.uuid4().hex[:6]}", artifact_location=None, tags={}
    ))  # fmt: skip
    for k in range(18):  # 18 traces over 3 hours, each team and region in turn
        team = TEAMS[k % len(TEAMS)]
        metadata = {MODEL: f"m-{k % 2}", USER: f"user-{k % 4}", "region": ("eu", "us")[k % 2]}
        if k % 3 == 0:
            metadata["note"] = LONG
        tid = log_trace(
            traces, made, at_ms=T0 + k * 10 * MINUTE, duration_ms=100 + 7 * k, error=k % 5 == 0,
            tokens=(10 + k, 5), cost=0.25, tools=[("search", 20 + k, k % 4 == 1)],
            metadata=metadata, tags={"team": team} if team else {},
        )  # fmt: skip
        feedback(traces, tid, "helpful", k % 2 == 0)
    return made


@pytest.mark.parametrize("flt", FILTERS)
def test_the_index_ranges_pick_the_traces_the_search_conditions_pick(
    stores: Any, exp: str, flt: str
) -> None:
    clauses = parse_trace_filter(flt)
    t = trace_rows.c
    window = (t.experiment_id == int(exp), t.request_time >= T0, t.request_time < T0 + 3 * HOUR)
    searched = select(t.trace_id).where(*window, *(condition(c) for c in clauses))
    passing = passing_traces(stores.database.dialect, int(exp), clauses, T0, T0 + 3 * HOUR)
    with stores.database.read() as conn:
        expected = sorted(row[0] for row in conn.execute(searched))
        found = [row[0] for row in conn.execute(passing)]
    assert sorted(found) == expected  # each once
    assert expected  # each filter finds some


@pytest.mark.parametrize("flt", FILTERS[::3])
def test_the_overview_through_them_is_true_to_the_raw_rows(stores: Any, exp: str, flt: str) -> None:
    window = Window(experiment_id=exp, start_ms=T0, end_ms=T0 + 3 * HOUR,
                    filter=parse_trace_filter(flt))  # fmt: skip
    for grain in (HOUR, 15 * MINUTE):
        bounds = cut(T0, T0 + 3 * HOUR, grain)
        raw = overview(stores.database, window, bounds, rollups=False)
        assert overview(stores.database, window, bounds, few=0) == raw  # the many-traces path
