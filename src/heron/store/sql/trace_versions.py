"""An experiment's traces by app version (the LoggedModel in `mlflow.modelId`), each read as
the overview of that version: volume, errors, latency percentiles, tokens, cost, mean scores
and the prompts its latest traces linked (`mlflow.linkedPrompts`)."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, literal_column, select

from heron.entities import reserved
from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import (
    PromptRef,
    TraceBucket,
    VersionStats,
    linked_prompts,
)
from heron.search.traces import TraceClause
from heron.store.sql.database import Database
from heron.store.sql.tables import assessments, trace_tags, traces
from heron.store.sql.trace_overview import overview, trace_figures
from heron.store.sql.traces_search import condition
from heron.store.trace_analytics import Window

PROMPT_SAMPLE = 1000  # a version's prompts: those its latest traces in the window linked


def versions(
    database: Database,
    window: Window,
    model_ids: Sequence[str],
    buckets: Sequence[tuple[int, int]],
) -> list[VersionStats]:
    """Each version's figures and mean scores as the overview of the window filtered to it
    reads them (its whole hours from the rollups, which are kept by version); the traces
    without a version from the NULL range of ix_traces_model, when there are any."""
    t = traces.c
    conditions = [condition(c) for c in window.filter]
    figures: list[tuple[str | None, TraceBucket, dict[str, tuple[int, float | None]]]] = []
    for model_id in dict.fromkeys(model_ids):
        clause = TraceClause("metadata", reserved.TRACE_MODEL_ID, "=", model_id)
        seen = overview(database, dataclasses.replace(window, filter=[*window.filter, clause]),
                        buckets)  # fmt: skip
        figures.append((model_id, seen.totals, {s.name: (s.count, s.mean) for s in seen.scores}))
    with database.read() as conn:
        unversioned = [*conditions, t.model_id.is_(None)]
        _, totals = trace_figures(conn, int(window.experiment_id), unversioned, buckets)
        if totals.traces:
            figures.append((None, totals, _scores(conn, window, conditions).get(None, {})))
        return [_stats(conn, window, conditions, *found) for found in figures]


def _stats(
    conn: Connection,
    window: Window,
    conditions: list[Any],
    model_id: str | None,
    totals: TraceBucket,
    scores: dict[str, tuple[int, float | None]],
) -> VersionStats:
    t = traces.c
    which = [
        t.experiment_id == int(window.experiment_id),
        t.request_time >= window.start_ms,
        t.request_time < window.end_ms,
        t.model_id == model_id if model_id else t.model_id.is_(None),
        *conditions,
    ]
    return VersionStats(
        model_id=model_id,
        traces=totals.traces,
        errors=totals.errors,
        latency=totals.latency,
        total_tokens=totals.total_tokens,
        cost=totals.cost,
        scores=scores,
        prompts=_prompts(conn, which),
    )


def _scores(
    conn: Connection, window: Window, conditions: list[Any]
) -> dict[str | None, dict[str, tuple[int, float | None]]]:
    """Valid feedback by version and name, from the window's assessments (each keeps its
    trace's version); joined with the traces only to apply a filter."""
    a = assessments.c
    query = (
        select(a.model_id, a.name, func.count(a.score), func.avg(a.score))
        .where(
            a.experiment_id == int(window.experiment_id),
            a.trace_time >= window.start_ms,
            a.trace_time < window.end_ms,
            a.kind == literal_column(f"'{AssessmentKind.FEEDBACK.value}'"),
            a.valid.is_(True),
            *conditions,
        )
        .group_by(a.model_id, a.name)
    )
    if conditions:
        query = query.select_from(assessments.join(traces, traces.c.trace_id == a.trace_id))
    found: dict[str | None, dict[str, tuple[int, float | None]]] = defaultdict(dict)
    for model_id, name, count, mean in conn.execute(query):
        found[model_id][name] = (count, None if mean is None else float(mean))
    return found


def _prompts(conn: Connection, which: list[Any]) -> list[PromptRef]:
    """The prompt versions linked (`mlflow.linkedPrompts`) by the version's latest traces."""
    tags = trace_tags.c
    latest = (
        select(traces.c.trace_id)
        .where(*which)
        .order_by(traces.c.request_time.desc())
        .limit(PROMPT_SAMPLE)
    )
    query = (
        select(tags.value)
        .where(
            tags.trace_id.in_(latest), tags.key == literal_column(f"'{reserved.LINKED_PROMPTS}'")
        )
        .distinct()
    )
    found: dict[PromptRef, None] = {}
    for (text,) in conn.execute(query):
        found.update(dict.fromkeys(linked_prompts(text)))
    return sorted(found, key=lambda r: (r.name, r.version))
