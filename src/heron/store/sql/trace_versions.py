"""An experiment's traces by app version (the LoggedModel in `mlflow.modelId`), each read from
ix_traces_model: volume, errors, latency percentiles, tokens, cost, mean scores and the prompts
its latest traces linked (`mlflow.linkedPrompts`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, literal_column, select

from heron.entities import reserved
from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import (
    PromptRef,
    VersionStats,
    linked_prompts,
)
from heron.store.sql.tables import assessments, trace_tags, traces
from heron.store.sql.trace_overview import trace_figures
from heron.store.sql.traces_search import condition
from heron.store.trace_analytics import Window

PROMPT_SAMPLE = 1000  # a version's prompts: those its latest traces in the window linked


def versions(
    conn: Connection,
    window: Window,
    model_ids: Sequence[str],
    buckets: Sequence[tuple[int, int]],
) -> list[VersionStats]:
    """Each version's figures from its own range of ix_traces_model (the traces without a
    version: the NULL range), read bucket by bucket as the overview reads them (a bucket's
    durations are a small sort, the window's a large one); the scores of them all in one read
    of the window's assessments (ix_assessments_scores)."""
    t = traces.c
    conditions = [condition(c) for c in window.filter]
    experiment_id = int(window.experiment_id)
    scores = _scores(conn, window, conditions)
    found = []
    for model_id in [*dict.fromkeys(model_ids), None]:
        version = t.model_id == model_id if model_id else t.model_id.is_(None)
        _, totals = trace_figures(conn, experiment_id, [*conditions, version], buckets)
        if model_id is None and not totals.traces:
            continue
        which = [
            t.experiment_id == experiment_id,
            t.request_time >= window.start_ms,
            t.request_time < window.end_ms,
            version,
            *conditions,
        ]
        found.append(
            VersionStats(
                model_id=model_id,
                traces=totals.traces,
                errors=totals.errors,
                latency=totals.latency,
                total_tokens=totals.total_tokens,
                cost=totals.cost,
                scores=scores.get(model_id, {}),
                prompts=_prompts(conn, which),
            )
        )
    return found


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
