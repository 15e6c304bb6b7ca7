"""The second pass of an evaluation with judges of whole conversations: the rows' traces grouped
by session (`mlflow.trace.session`), each session judged once, its verdicts stored on its
first trace (as MLflow does)."""

from __future__ import annotations

import contextvars
from collections import defaultdict
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from heron.entities import reserved
from heron.entities.trace import Trace
from heron.genai.evaluation.results import RowResult
from heron.genai.evaluation.row_run import feedback_assessments, with_digest
from heron.genai.evaluation.writer import EvalWriter
from heron.genai.scoring import Row, Scorer


def sessions_of(rows: Sequence[RowResult], traces: dict[str, Trace]) -> dict[str, list[Trace]]:
    """Session id -> its traces, oldest first (rows without a session are left out)."""
    groups: dict[str, list[Trace]] = defaultdict(list)
    for row in rows:
        trace = traces.get(row.trace_id or "")
        session = trace.info.trace_metadata.get(reserved.TRACE_SESSION) if trace else None
        if trace is not None and session:
            groups[session].append(trace)
    return {k: sorted(v, key=lambda t: t.info.request_time) for k, v in groups.items()}


def score_sessions(
    rows: list[RowResult],
    traces: dict[str, Trace],
    scorers: Sequence[Scorer],
    writer: EvalWriter,
    run_id: str,
    workers: int,
    context: contextvars.Context,
) -> list[RowResult]:
    """The rows again, each session's verdicts added to the row of its first trace."""
    groups = sessions_of(rows, traces)
    if not scorers or not groups:
        return rows
    by_trace = {r.trace_id: i for i, r in enumerate(rows)}

    def judge(session: list[Trace]) -> tuple[str, list]:  # type: ignore[type-arg]
        first = session[0]
        expectations = rows[by_trace[first.info.trace_id]].expectations
        row = Row(expectations=expectations, trace=first, session=tuple(session))
        feedbacks = [fb for s in scorers for fb in with_digest(s, s.run(row))]
        writer.submit(None, (), feedback_assessments(feedbacks, first, run_id))
        return first.info.trace_id, feedbacks

    with ThreadPoolExecutor(workers, thread_name_prefix="heron-eval-session") as pool:
        done = list(pool.map(lambda s: context.copy().run(judge, s), groups.values()))
    out = list(rows)
    for trace_id, feedbacks in done:
        i = by_trace[trace_id]
        out[i] = replace(out[i], feedbacks=[*out[i].feedbacks, *feedbacks])
    return out
