"""One row of an evaluation: run the app inside a new trace (kept, not exported), score the
row, and hand the trace and its scores to the writer."""

from __future__ import annotations

import asyncio
import contextvars
import inspect
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import replace
from typing import Any

from heron.entities import reserved
from heron.entities.assessment import (
    Assessment,
    AssessmentKind,
    AssessmentSource,
    AssessmentSourceType,
)
from heron.entities.trace import Span, SpanStatusCode, Trace, TraceInfo, TraceState
from heron.genai.evaluation.results import RowResult
from heron.genai.evaluation.rows import EvalRow
from heron.genai.evaluation.writer import EvalWriter
from heron.genai.feedback import Feedback
from heron.genai.scoring import Row, Scorer
from heron.services.traces import TRACE_METADATA_ATTRIBUTE, TRACE_TAGS_ATTRIBUTE
from heron.tracing.fluent import start_kept_trace, update_current_trace
from heron.tracing.tracer import KeptTrace

RECORD_KEY_TAG = reserved.EVAL_RECORD_KEY  # pairs a row with the same row of other evaluations


class App:
    """The app under evaluation: `predict_fn(**inputs)`, sync or async."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.name = getattr(fn, "__name__", None) or "predict_fn"
        self.is_async = inspect.iscoroutinefunction(fn)

    def __call__(self, inputs: Any) -> Any:
        result = self.fn(**inputs) if isinstance(inputs, Mapping) else self.fn(inputs)
        if self.is_async or inspect.isawaitable(result):
            return asyncio.run(_awaited(result))
        return result


async def _awaited(result: Any) -> Any:
    return await result


def evaluate_row(
    row: EvalRow,
    app: App | None,
    scorers: Sequence[Scorer],
    writer: EvalWriter,
    run_id: str,
    pool: Executor | None = None,
) -> RowResult:
    error: str | None = None
    kept: KeptTrace | None = None
    spans: list[Span] = []
    trace: Trace | None
    if row.trace is not None and app is None:
        trace, outputs = row.trace, row.outputs
    else:
        box: list[KeptTrace] = []
        with start_kept_trace(app.name if app else "evaluate_row", box.append) as span:
            span.set_inputs(row.inputs)
            update_current_trace(tags={RECORD_KEY_TAG: row.key, **row.tags})
            outputs = row.outputs
            if app is not None:
                try:
                    outputs = app(row.inputs)
                except Exception as exc:
                    error = f"predict_fn failed on row {row.index}: {type(exc).__name__}: {exc}"
                    span.record_exception(exc)
            span.set_outputs(outputs)
        kept = box[0] if box else None
        spans = kept.pending.heron_spans() if kept is not None else []
        trace = trace_of(spans, kept.experiment_id) if kept is not None else None
    scored = Row(inputs=row.inputs, outputs=outputs, expectations=row.expectations, trace=trace)
    feedbacks = score_row(scored, scorers, pool)
    if trace is not None:
        assessments = _expectations(row, trace) + feedback_assessments(feedbacks, trace, run_id)
        writer.submit(kept, spans, assessments)
    return RowResult(
        index=row.index, key=row.key, trace_id=trace.info.trace_id if trace else None,
        inputs=row.inputs, outputs=outputs, expectations=row.expectations,
        feedbacks=feedbacks, error=error, trace=trace,
    )  # fmt: skip


def score_row(row: Row, scorers: Sequence[Scorer], pool: Executor | None) -> list[Feedback]:
    """Every scorer's feedback on the row, in the scorers' order. With a pool, the scorers
    after the first run there at the same time as it: a row's judges wait on their endpoint
    together, and the endpoint's limiter, not the rows' threads, sets the pace."""
    if pool is None or len(scorers) < 2:
        return [fb for s in scorers for fb in with_digest(s, s.run(row))]
    later = [pool.submit(contextvars.copy_context().run, s.run, row) for s in scorers[1:]]
    first = scorers[0].run(row)
    found = [first, *(f.result() for f in later)]
    return [fb for s, fbs in zip(scorers, found, strict=True) for fb in with_digest(s, fbs)]


def with_digest(scorer: Scorer, feedbacks: list[Feedback]) -> list[Feedback]:
    digest = scorer.fingerprint()
    return [
        replace(f, metadata={**f.metadata, reserved.ASSESSMENT_SCORER_DIGEST: digest})
        for f in feedbacks
    ]


def trace_of(spans: Sequence[Span], experiment_id: str) -> Trace:
    """The trace the spans make, as the store will hold it once they are sent."""
    ids = {s.span_id for s in spans}
    root = next(s for s in spans if s.parent_span_id not in ids)
    metadata = root.attributes.get(TRACE_METADATA_ATTRIBUTE) or {}
    tags = root.attributes.get(TRACE_TAGS_ATTRIBUTE) or {}
    end = root.end_time_ns or root.start_time_ns
    info = TraceInfo(
        trace_id=root.trace_id, experiment_id=experiment_id,
        request_time=root.start_time_ns // 1_000_000,
        execution_duration=(end - root.start_time_ns) // 1_000_000,
        state=TraceState.ERROR if root.status is SpanStatusCode.ERROR else TraceState.OK,
        trace_metadata=dict(metadata),
        tags={**tags, reserved.TRACE_NAME: root.name},
    )  # fmt: skip
    return Trace(info=info, spans=tuple(spans))


def _expectations(row: EvalRow, trace: Trace) -> list[Assessment]:
    present = {a.name for a in trace.info.assessments if a.kind is AssessmentKind.EXPECTATION}
    source = AssessmentSource(
        source_type=AssessmentSourceType.HUMAN,
        source_id=trace.info.trace_metadata.get(reserved.USER, "unknown"),
    )
    root = trace.root_span
    return [
        Assessment(
            assessment_id="",
            trace_id=trace.info.trace_id,
            name=str(name),
            kind=AssessmentKind.EXPECTATION,
            value=value,
            source=source,
            span_id=root.span_id if root else None,
        )
        for name, value in row.expectations.items()
        if name not in present
    ]


def feedback_assessments(feedbacks: list[Feedback], trace: Trace, run_id: str) -> list[Assessment]:
    root = trace.root_span
    out = []
    for fb in feedbacks:
        source = fb.source or AssessmentSource()
        out.append(
            Assessment(
                assessment_id="",
                trace_id=trace.info.trace_id,
                name=fb.name or "feedback",
                kind=AssessmentKind.FEEDBACK,
                value=fb.value,
                source=source,
                rationale=fb.rationale,
                error=fb.error,
                span_id=fb.span_id or (root.span_id if root else None),
                metadata={**fb.metadata, reserved.ASSESSMENT_SOURCE_RUN_ID: run_id},
            )
        )
    return out
