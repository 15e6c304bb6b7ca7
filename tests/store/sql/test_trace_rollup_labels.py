"""The overview's rollups by label (a trace tag) on SQLite and PostgreSQL stay true to the raw
rows: a tag filter alone or with an environment, span type or app version; a tag set, changed
or deleted after the hour was built; a tag on a trace whose tool call is in the next hour; and
a tag with too many values in an hour, or too long a value, left out of the hours built with
it and read raw there."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from tests.services.test_trace_analytics import HOUR, MODEL, T0, log_trace
from tests.store.sql.test_trace_rollups import (
    ENV,
    MINUTE,
    STAGING,
    TOOL,
    add_span,
    both,
    exp,
    fill_kinds,
    marks,
    same,
    traces,
)

from heron.entities import reserved
from heron.services.traces import TraceService
from heron.store.sql.tables_rollups import trace_rollup_cuts, trace_rollups
from heron.store.sql.trace_rollups_labels import LABEL_VALUES

__all__ = ["exp", "traces"]  # the fixtures
TEAM_A = "tags.team = 'a'"
USER = f"metadata.`{reserved.TRACE_USER}` = 'u-1'"


def fill_labels(traces: TraceService, exp: str, hours: Sequence[int] = (0, 1, 2, 3)) -> list[str]:
    """fill_kinds' traces, plus per hour two of team a and one of team b, of users u-0/u-1."""
    made = fill_kinds(traces, exp, hours)
    for hour in hours:
        for k, team in enumerate(("a", "a", "b")):
            made.append(log_trace(
                traces, exp, at_ms=T0 + hour * HOUR + (30 + k) * MINUTE, duration_ms=40 + 9 * k,
                error=k == 1, tokens=(3, 4), cost=0.25, tools=[("lookup", 7 + k, k == 2)],
                metadata={MODEL: f"m-{k % 2}", ENV: "staging", reserved.TRACE_USER: f"u-{k % 2}"},
                tags={"team": team},
            ))  # fmt: skip
    return made


def label_hours(stores: Any, exp: str, label_key: str) -> list[int]:
    """The hours whose rollup rows keep `label_key`."""
    r = trace_rollups.c
    query = (
        select(r.hour_ms).distinct().where(r.experiment_id == int(exp), r.label_key == label_key)
    )
    with stores.database.read() as conn:
        return sorted((row[0] - T0) // HOUR for row in conn.execute(query))


def test_tag_filters_read_rollups_true_to_the_raw_rows(stores: Any, traces: Any, exp: str) -> None:
    fill_labels(traces, exp)
    team = same(stores, exp, flt=TEAM_A)
    assert marks(stores, exp) == [0, 1, 2, 3]  # read from the rollups
    assert label_hours(stores, exp, "tag.team") == [0, 1, 2, 3]
    assert (team.totals.traces, team.totals.errors) == (8, 4)
    assert [(t.name, t.calls, t.errors) for t in team.tools] == [("lookup", 8, 0)]
    named = same(stores, exp, flt="trace.name = 'agent'")  # the name is a tag: a label too
    assert (named.totals.traces, label_hours(stores, exp, f"tag.{reserved.TRACE_NAME}")) == (
        24,
        [0, 1, 2, 3],
    )
    quarter = both(stores, exp, T0, T0 + 4 * HOUR, 15 * MINUTE, flt=TEAM_A)  # all raw
    assert quarter[0] == quarter[1]
    assert same(stores, exp, flt=USER).totals.traces == 4
    assert same(stores, exp, flt="tags.team = 'c'").totals.traces == 0
    for flt in (f"{TEAM_A} AND {STAGING}", f"{TEAM_A} AND {TOOL}",
                f"{USER} AND metadata.`{MODEL}` = 'm-1' AND {TOOL}"):  # fmt: skip
        same(stores, exp, flt=flt)
    # a user (its own index), two tags at once, or another operator: read raw, the same answer
    assert same(stores, exp, flt=f"{TEAM_A} AND {USER}").totals.traces == 4
    assert same(stores, exp, flt="tags.team != 'a'").totals.traces == 4


def test_a_tag_set_changed_or_deleted_later_moves_the_trace_and_its_tools(
    stores: Any, traces: Any, exp: str
) -> None:
    made = fill_labels(traces, exp)
    late = log_trace(traces, exp, at_ms=T0 + 59 * MINUTE, duration_ms=50)
    add_span(traces, exp, late, "TOOL", T0 + HOUR + 5 * MINUTE)  # its tool call, in hour 1
    same(stores, exp, flt=TEAM_A)
    traces.set_trace_tag(late, "team", "a")
    assert marks(stores, exp) == [2, 3]  # its own hour and its tool call's
    found = same(stores, exp, flt=TEAM_A)
    assert (found.totals.traces, sum(t.calls for t in found.tools)) == (9, 9)
    traces.set_trace_tag(made[12], "team", "b")  # hour 0's first team-a trace
    assert 0 not in marks(stores, exp)
    assert same(stores, exp, flt=TEAM_A).totals.traces == 8
    traces.delete_trace_tag(late, "team")
    assert same(stores, exp, flt=TEAM_A).totals.traces == 7
    assert same(stores, exp, flt="tags.team = 'b'").totals.traces == 5
    traces.delete_traces(exp, trace_ids=[made[13]])
    assert same(stores, exp, flt=TEAM_A).totals.traces == 6


def test_a_tag_with_too_many_values_in_an_hour_is_read_raw_where_built_with_it(
    stores: Any, traces: Any, exp: str
) -> None:
    fill_labels(traces, exp, hours=(0, 1))
    for k in range(LABEL_VALUES + 1):  # hour 1: an id-like tag, one value a trace
        log_trace(traces, exp, at_ms=T0 + HOUR + k * 1000, duration_ms=5 + k,
                  tags={"request": f"r-{k}", "team": "a"})  # fmt: skip
    log_trace(traces, exp, at_ms=T0 + 10 * MINUTE, duration_ms=9, tags={"request": "r-7"})
    long = "x" * 3000  # longer than an index holds: hour 0 reads it raw
    log_trace(traces, exp, at_ms=T0 + 11 * MINUTE, duration_ms=9, tags={"note": long})
    assert same(stores, exp, end=T0 + 2 * HOUR, flt=f"tags.note = '{long}'").totals.traces == 1
    found = same(stores, exp, end=T0 + 2 * HOUR, flt="tags.request = 'r-7'")
    assert (found.buckets[0].traces, found.buckets[1].traces) == (1, 1)
    with stores.database.read() as conn:
        c = trace_rollup_cuts.c
        cuts = conn.execute(select(c.hour_ms, c.label_key).where(c.experiment_id == int(exp)))
        found = sorted(((h - T0) // HOUR, key) for h, key in cuts)
    # hours 0 and 1 are built in one transaction: both leave the two tags out
    assert found == [(0, "tag.note"), (0, "tag.request"), (1, "tag.note"), (1, "tag.request")]
    assert (label_hours(stores, exp, "tag.request"), label_hours(stores, exp, "tag.team")) == (
        [],
        [0, 1],
    )
    team = same(stores, exp, end=T0 + 2 * HOUR, flt=TEAM_A)
    assert team.buckets[1].traces == 2 + LABEL_VALUES + 1
