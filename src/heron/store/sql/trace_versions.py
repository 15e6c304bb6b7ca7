"""An experiment's traces by app version (the LoggedModel in `mlflow.modelId`), each read from
ix_traces_model: volume, errors, latency percentiles, tokens, cost, mean scores and the prompts
its traces linked (`mlflow.linkedPrompts`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, func, literal_column, or_, select

from heron.entities import reserved
from heron.entities.assessment import AssessmentKind
from heron.entities.trace_analytics import (
    Latency,
    PromptRef,
    VersionStats,
    linked_prompts,
)
from heron.store.sql.json_sql import bound_list, in_bound_list
from heron.store.sql.tables import assessments, trace_tags, traces
from heron.store.sql.trace_analytics_sql import Frequencies, errors_of, frequencies
from heron.store.sql.traces_search import condition
from heron.store.trace_analytics import Window


def versions(conn: Connection, window: Window, model_ids: Sequence[str]) -> list[VersionStats]:
    t = traces.c
    which = [
        t.experiment_id == int(window.experiment_id),
        or_(in_bound_list(t.model_id), t.model_id.is_(None)),
        t.request_time >= window.start_ms,
        t.request_time < window.end_ms,
        *(condition(c) for c in window.filter),
    ]
    params = {"ids": bound_list(model_ids)}
    counts = {
        row[0]: row[1:]
        for row in conn.execute(
            select(
                t.model_id,
                func.count(),
                errors_of(t.state),
                func.coalesce(func.sum(t.total_tokens), 0),
                func.coalesce(func.sum(t.total_cost), 0),
            )
            .where(*which)
            .group_by(t.model_id),
            params,
        )
    }
    rows = select(t.model_id.label("g"), t.execution_duration.label("d")).where(*which)
    text = conn.execute(select(frequencies(conn.dialect.name, rows.subquery(), "g")), params)
    picks = _latencies(text.scalar())
    scores = _scores(conn, which, params)
    prompts = _prompts(conn, which, params)
    found = []
    for model_id in [*dict.fromkeys(model_ids), *([None] if None in counts else [])]:
        traces_, errors, tokens, cost = counts.get(model_id, (0, 0, 0, 0))
        found.append(
            VersionStats(
                model_id=model_id,
                traces=traces_,
                errors=int(errors),
                latency=picks.get(model_id, Latency()),
                total_tokens=int(tokens),
                cost=float(cost),
                scores=scores.get(model_id, {}),
                prompts=prompts.get(model_id, ()),
            )
        )
    return found


def _latencies(text: str | None) -> dict[str | None, Latency]:
    """Each version's latency percentiles from the frequency table of (version, duration)."""
    if not text:
        return {}
    keys, values, counts = orjson.loads(text)
    found: dict[str | None, Frequencies] = defaultdict(Frequencies)
    for key, value, count in zip(keys or (), values or (), counts or (), strict=True):
        found[key].add((value,), (count,))
    return {key: f.latency() for key, f in found.items()}


def _scores(
    conn: Connection, which: list[Any], params: dict[str, Any]
) -> dict[str | None, dict[str, tuple[int, float | None]]]:
    a = assessments.c
    query = (
        select(traces.c.model_id, a.name, func.count(a.score), func.avg(a.score))
        .select_from(traces.join(assessments, a.trace_id == traces.c.trace_id))
        .where(
            *which,
            a.kind == literal_column(f"'{AssessmentKind.FEEDBACK.value}'"),
            a.valid.is_(True),
        )
        .group_by(traces.c.model_id, a.name)
    )
    found: dict[str | None, dict[str, tuple[int, float | None]]] = defaultdict(dict)
    for model_id, name, count, mean in conn.execute(query, params):
        found[model_id][name] = (count, None if mean is None else float(mean))
    return found


def _prompts(
    conn: Connection, which: list[Any], params: dict[str, Any]
) -> dict[str | None, list[PromptRef]]:
    tags = trace_tags.c
    query = (
        select(traces.c.model_id, tags.value)
        .select_from(traces.join(trace_tags, tags.trace_id == traces.c.trace_id))
        .where(*which, tags.key == literal_column(f"'{reserved.LINKED_PROMPTS}'"))
        .distinct()
    )
    found: dict[str | None, dict[PromptRef, None]] = defaultdict(dict)
    for model_id, text in conn.execute(query, params):
        for ref in linked_prompts(text):
            found[model_id][ref] = None
    return {m: sorted(refs, key=lambda r: (r.name, r.version)) for m, refs in found.items()}
