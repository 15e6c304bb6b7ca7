"""Synthetic traffic of a GenAI app, the same in the benchmark (a million traces) and in its
test (a few thousand): each trace an agent answering one turn of a session, with a chat model
call (tokens, cost) and up to two tool calls; some fail; some get feedback and judge scores.

`traffic()` says what each trace is (so a test can compute every figure the overview should
show); `fill()` writes it through Heron's own store: SqlTraceStore.log_spans in batches (the
path OTLP ingestion takes) and the assessment rows in bulk."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

TOOLS = ("search", "calculator", "weather")
VERSIONS = ("m-" + "a" * 32, "m-" + "b" * 32, "m-" + "c" * 32)
ENVIRONMENTS = ("production", "staging")
BATCH = 2000  # traces per log_spans call


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    offset_ms: int  # from the trace's start
    duration_us: int
    error: bool


@dataclass(frozen=True, slots=True)
class Turn:
    """One trace: an agent's answer to one turn of a session."""

    trace_id: str
    start_ms: int
    duration_ms: int
    error: bool
    input_tokens: int
    output_tokens: int
    cost: float  # USD: input and output at fixed prices
    session: str
    user: str
    version: str
    environment: str
    tools: tuple[ToolCall, ...]
    feedback: bool | None  # the user's thumbs up or down, when given
    relevance: int | None  # an LLM judge's score, 1 to 5
    safe: str | None  # an LLM judge's "yes" or "no"


def traffic(
    count: int,
    start_ms: int,
    end_ms: int,
    seed: int = 7,
    versions: tuple[str, ...] = VERSIONS,
) -> Iterator[Turn]:
    """`count` traces spread evenly over [start_ms, end_ms), in sessions of five turns; each
    third of them answered by the next of `versions` (LoggedModel ids)."""
    rnd = random.Random(seed)  # noqa: S311 - synthetic data, repeatable by its seed
    span = max(end_ms - start_ms, 1)
    for i in range(count):
        tools = tuple(
            ToolCall(
                name=TOOLS[(i + k) % len(TOOLS)],
                offset_ms=5 + k,
                duration_us=int(rnd.lognormvariate(11, 0.7)),  # ~60 ms
                error=rnd.random() < 0.05,
            )
            for k in range(i % 3)
        )
        inputs, outputs = rnd.randint(50, 3000), rnd.randint(10, 800)
        yield Turn(
            trace_id=f"tr-{uuid.UUID(int=rnd.getrandbits(128)).hex}",
            start_ms=start_ms + i * span // count,
            duration_ms=int(rnd.lognormvariate(6.8, 0.8)) + 20,  # ~900 ms, a long tail
            error=rnd.random() < 0.03,
            input_tokens=inputs,
            output_tokens=outputs,
            cost=round(inputs * 0.15e-6 + outputs * 0.6e-6, 9),
            session=f"session-{i // 5:07d}",
            user=f"user-{i // 5 % 997}",
            version=versions[min(i * len(versions) // count, len(versions) - 1)],
            environment=ENVIRONMENTS[i % 10 == 0],
            tools=tools,
            feedback=(rnd.random() < 0.8) if i % 7 == 0 else None,
            relevance=rnd.randint(1, 5) if i % 4 == 0 else None,
            safe=("yes" if rnd.random() < 0.97 else "no") if i % 4 == 1 else None,
        )


def fill(stores: Any, experiment_id: str, turns: Iterator[Turn], batch: int = BATCH) -> int:
    """Writes the turns; returns how many."""
    done = 0
    pending: list[Turn] = []
    for turn in turns:
        pending.append(turn)
        if len(pending) == batch:
            done += _write(stores, experiment_id, pending)
            pending = []
    if pending:
        done += _write(stores, experiment_id, pending)
    return done


def _write(stores: Any, experiment_id: str, turns: list[Turn]) -> int:
    from heron.store.sql import tables
    from heron.store.sql.database import run_many

    spans = [span for turn in turns for span in _spans(turn)]
    metadata = {
        t.trace_id: {
            "mlflow.trace.session": t.session,
            "mlflow.trace.user": t.user,
            "mlflow.modelId": t.version,
            "mlflow.source.type": t.environment,
        }
        for t in turns
    }
    tags = {t.trace_id: {"team": "search"} for t in turns}
    stores.traces.log_spans(experiment_id, spans, metadata=metadata, tags=tags)
    rows = [row for t in turns for row in _assessments(t, int(experiment_id))]
    if rows:
        stores.database.write(lambda conn: run_many(conn, tables.assessments.insert(), rows))
    return len(turns)


def _spans(turn: Turn) -> list[Any]:
    from heron.entities.trace import Span, SpanStatusCode

    start = turn.start_ms * 1_000_000
    end = start + turn.duration_ms * 1_000_000
    base = int(turn.trace_id[3:19], 16)
    root_id, chat_id, *tool_ids = (f"{(base + j) % 2**64:016x}" for j in range(2 + len(turn.tools)))
    status = SpanStatusCode.ERROR if turn.error else SpanStatusCode.OK
    spans = [
        Span(trace_id=turn.trace_id, span_id=root_id, parent_span_id=None, name="agent",
             span_type="AGENT", status=status, start_time_ns=start, end_time_ns=end,
             inputs={"messages": [{"role": "user", "content": f"question of {turn.session}"}]},
             outputs={"choices": [{"message": {"role": "assistant", "content": "an answer"}}]}),
        Span(trace_id=turn.trace_id, span_id=chat_id, parent_span_id=root_id,
             name="chat", span_type="CHAT_MODEL", status=SpanStatusCode.OK,
             start_time_ns=start + 1_000_000, end_time_ns=end - 1_000_000,
             attributes={
                 "mlflow.chat.tokenUsage": {
                     "input_tokens": turn.input_tokens, "output_tokens": turn.output_tokens,
                     "total_tokens": turn.input_tokens + turn.output_tokens,
                 },
                 "mlflow.llm.cost": {"input_cost": 0.0, "output_cost": turn.cost,
                                     "total_cost": turn.cost},
             }),
    ]  # fmt: skip
    for tool, tool_id in zip(turn.tools, tool_ids, strict=True):
        tool_start = start + tool.offset_ms * 1_000_000
        spans.append(
            Span(trace_id=turn.trace_id, span_id=tool_id,
                 parent_span_id=root_id, name=tool.name, span_type="TOOL",
                 status=SpanStatusCode.ERROR if tool.error else SpanStatusCode.OK,
                 start_time_ns=tool_start, end_time_ns=tool_start + tool.duration_us * 1000)
        )  # fmt: skip
    return spans


def _assessments(turn: Turn, experiment_id: int) -> list[dict[str, Any]]:
    from heron.entities.assessment import (
        Assessment,
        AssessmentKind,
        AssessmentSource,
        AssessmentSourceType,
    )
    from heron.store.sql.traces_rows import assessment_row

    found: list[tuple[str, Any, AssessmentSourceType]] = []
    if turn.feedback is not None:
        found.append(("user_feedback", turn.feedback, AssessmentSourceType.HUMAN))
    if turn.relevance is not None:
        found.append(("relevance", turn.relevance, AssessmentSourceType.LLM_JUDGE))
    if turn.safe is not None:
        found.append(("safety", turn.safe, AssessmentSourceType.LLM_JUDGE))
    at = turn.start_ms + turn.duration_ms
    return [
        {
            **assessment_row(
                Assessment(
                    assessment_id=f"a-{turn.trace_id[3:]}{name[:2]}",
                    trace_id=turn.trace_id,
                    name=name,
                    kind=AssessmentKind.FEEDBACK,
                    value=value,
                    source=AssessmentSource(source_type=source, source_id="bench"),
                    create_time=at,
                    last_update_time=at,
                )
            ),
            "experiment_id": experiment_id,
            "trace_time": turn.start_ms,
            "model_id": turn.version,
        }
        for name, value, source in found
    ]
