"""One trace as the trace page shows it: the span tree in start order with each span's place
on the timeline (a waterfall), the selected span's details, and the assessments."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from heron.entities.assessment import Assessment, AssessmentKind
from heron.entities.trace import Span, SpanEvent, Trace

EXCEPTION_EVENT = "exception"
MIN_BAR_PERCENT = 0.4  # a span too short to see still gets a sliver


@dataclass(frozen=True, slots=True)
class SpanRow:
    span: Span
    depth: int
    offset_ms: float  # from the trace's first span start
    duration_ms: float | None  # None while the span is open
    left: float  # percent of the timeline
    width: float  # percent of the timeline
    child_count: int


@dataclass(frozen=True, slots=True)
class TraceView:
    rows: list[SpanRow]
    total_ms: float
    selected: Span | None


def view(trace: Trace, selected_id: str | None) -> TraceView:
    """The span tree (parents before children, siblings by start time) placed on a
    timeline running from the first span's start to the last span's end."""
    spans = sorted(trace.spans, key=lambda s: (s.start_time_ns, s.span_id))
    if not spans:
        return TraceView(rows=[], total_ms=0.0, selected=None)
    start = spans[0].start_time_ns
    end = max(s.end_time_ns or s.start_time_ns for s in spans)
    total = max(end - start, 1)
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[Span]] = {}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)
    rows: list[SpanRow] = []
    placed: set[str] = set()

    def place(span: Span, depth: int) -> None:
        if span.span_id in placed:  # a cycle of parent ids: show each span once
            return
        placed.add(span.span_id)
        kids = children.get(span.span_id, [])
        stop = span.end_time_ns if span.end_time_ns is not None else end
        left = (span.start_time_ns - start) / total * 100
        width = max((stop - span.start_time_ns) / total * 100, MIN_BAR_PERCENT)
        rows.append(
            SpanRow(
                span=span,
                depth=depth,
                offset_ms=(span.start_time_ns - start) / 1e6,
                duration_ms=None if span.duration_ns is None else span.duration_ns / 1e6,
                left=round(min(left, 100 - MIN_BAR_PERCENT), 3),
                width=round(min(width, 100 - min(left, 100 - MIN_BAR_PERCENT)), 3),
                child_count=len(kids),
            )
        )
        for kid in kids:
            place(kid, depth + 1)

    for span in children.get(None, []):
        place(span, 0)
    for span in spans:  # spans only reachable through a cycle
        place(span, 0)
    by_id = {s.span_id: s for s in spans}
    selected = by_id.get(selected_id or "") or rows[0].span
    return TraceView(rows=rows, total_ms=total / 1e6, selected=selected)


def pretty(value: Any) -> str:
    """A span's inputs or outputs as indented JSON (strings as they are)."""
    if isinstance(value, str):
        return value
    try:
        return orjson.dumps(value, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return repr(value)


def attribute_text(value: Any) -> str:
    return value if isinstance(value, str) else pretty(value)


def errors(span: Span) -> list[SpanEvent]:
    """The span's exception events (type, message, stack trace in their attributes)."""
    return [e for e in span.events if e.name == EXCEPTION_EVENT]


def status_note(span: Span) -> str | None:
    """The span's status message, unless an exception event says the same (the tracer sets
    the message to "Type: message" of the exception it records): said once, not twice."""
    message = (span.status_message or "").strip()
    if not message:
        return None
    for event in errors(span):
        kind = str(event.attributes.get("exception.type", ""))
        text = str(event.attributes.get("exception.message", ""))
        if message in (text, f"{kind}: {text}", kind):
            return None
    return message


def ms(value: float | None) -> str:
    """A span duration or offset, in the unit that reads best."""
    if value is None:
        return "open"
    if value < 1:
        return f"{value * 1000:.0f} µs"
    if value < 1000:
        return f"{value:.1f} ms"
    return f"{value / 1000:.2f} s"


@dataclass(frozen=True, slots=True)
class Assessments:
    feedback: list[Assessment]
    expectations: list[Assessment]
    span_names: Mapping[str, str]


def assessments(trace: Trace, all_of: Sequence[Assessment]) -> Assessments:
    """Feedback and expectations, newest first (overridden ones too, marked by `valid`)."""
    ordered = sorted(all_of, key=lambda a: (a.create_time, a.assessment_id), reverse=True)
    return Assessments(
        feedback=[a for a in ordered if a.kind == AssessmentKind.FEEDBACK],
        expectations=[a for a in ordered if a.kind == AssessmentKind.EXPECTATION],
        span_names={s.span_id: s.name for s in trace.spans},
    )


def value_text(value: Any) -> str:
    if value is True:
        return "✓ good"
    if value is False:
        return "✗ bad"
    return attribute_text(value)
