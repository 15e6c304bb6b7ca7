"""What judges read besides the inputs and outputs: the documents a trace's retrievers
returned, the tools it called, a conversation's turns, and a trace as compact text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heron.entities.trace import Span, SpanType, Trace
from heron.genai.text import as_text, question_text, to_json

MAX_TRACE_CHARS = 20_000  # a trace is cut past this, so one judge prompt stays bounded
_DOC_TEXT_KEYS = ("page_content", "content", "text", "document", "chunk")


@dataclass(frozen=True, slots=True)
class Chunk:
    span_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    name: str
    arguments: Any
    result: Any


def retrieved_chunks(trace: Trace | None) -> list[Chunk]:
    """The documents the trace's RETRIEVER spans returned, in order, as text."""
    if trace is None:
        return []
    chunks = []
    for span in _ordered(trace.spans):
        if span.span_type != SpanType.RETRIEVER:
            continue
        outputs = span.outputs if isinstance(span.outputs, list) else [span.outputs]
        chunks += [Chunk(span.span_id, _doc_text(d)) for d in outputs if d is not None]
    return chunks


def _doc_text(document: Any) -> str:
    if isinstance(document, Mapping):
        for key in _DOC_TEXT_KEYS:
            if isinstance(document.get(key), str):
                return str(document[key])
    return as_text(document)


def tool_calls(trace: Trace | None) -> list[ToolCall]:
    """The trace's TOOL spans, in the order they started."""
    if trace is None:
        return []
    return [
        ToolCall(s.name, s.inputs, s.outputs)
        for s in _ordered(trace.spans)
        if s.span_type == SpanType.TOOL
    ]


def render_tools(calls: Sequence[ToolCall]) -> str:
    if not calls:
        return "(no tool was called)"
    return "\n".join(
        f"{i}. {c.name}({to_json(c.arguments)}) -> {to_json(c.result)[:2000]}"
        for i, c in enumerate(calls, 1)
    )


def conversation(session: Sequence[Trace]) -> str:
    """The session's turns, oldest first: each trace's request and answer."""
    turns = []
    for trace in sorted(session, key=lambda t: t.info.request_time):
        root = trace.root_span
        if root is None:
            continue
        turns.append(f"user: {question_text(root.inputs)}")
        turns.append(f"assistant: {as_text(root.outputs)}")
    return "\n".join(turns)


def render_trace(trace: Trace | None) -> str:
    """The trace as indented lines of spans (name, type, status, inputs, outputs)."""
    if trace is None:
        return "(no trace)"
    children: dict[str | None, list[Span]] = {}
    ids = {s.span_id for s in trace.spans}
    for span in _ordered(trace.spans):
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for span in children.get(parent, []):
            ms = (span.duration_ns or 0) / 1e6
            lines.append(
                f"{'  ' * depth}- {span.name} [{span.span_type}, {span.status}, {ms:.0f} ms] "
                f"inputs={to_json(span.inputs)[:1500]} outputs={to_json(span.outputs)[:1500]}"
            )
            walk(span.span_id, depth + 1)

    walk(None, 0)
    text = "\n".join(lines)
    if len(text) > MAX_TRACE_CHARS:
        text = text[:MAX_TRACE_CHARS] + f"\n... [cut: the trace is {len(text)} characters]"
    return text


def _ordered(spans: Sequence[Span]) -> list[Span]:
    return sorted(spans, key=lambda s: s.start_time_ns)
