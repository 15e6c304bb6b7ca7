"""Two or more traces side by side: their spans aligned by name and position (a span's place
is its path of names from the root, each with its rank among same-named siblings by start
time), with the differences in inputs, outputs, status, timing and attributes marked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.routing import BaseRoute

from heron.entities.trace import Span, Trace
from heron.errors import InvalidParameter, NotFound
from heron.services.access import requires
from heron.services.build import Services
from heron.ui import trace_view
from heron.ui.rendering import PageResult, Renderer

MAX_COMPARED = 10
SLOWER = 1.5  # a span this many times slower than its fastest match is marked
Path = tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class Row:
    path: Path
    spans: list[Span | None]  # one per trace, None where the trace has no such span
    differs: frozenset[str] = field(default_factory=frozenset)  # what differs between them

    @property
    def name(self) -> str:
        return self.path[-1][0]

    @property
    def depth(self) -> int:
        return len(self.path) - 1


@dataclass(frozen=True, slots=True)
class AttributeRow:
    key: str
    values: list[str | None]
    differs: bool


def routes(renderer: Renderer, services: Services) -> list[BaseRoute]:
    def compare_page(request: Request) -> PageResult:
        ids = list(dict.fromkeys(i for i in request.query_params.getlist("ids") if i))
        if not 2 <= len(ids) <= MAX_COMPARED:
            raise InvalidParameter(
                f"Choose 2 to {MAX_COMPARED} traces to compare (/traces/compare?ids=<trace id>"
                f"&ids=<trace id>), got {len(ids)}"
            )
        traces = services.traces.get_traces(ids)
        missing = [i for i in ids if i not in {t.info.trace_id for t in traces}]
        if missing:
            raise NotFound(f"Trace with ID {missing[0]!r} not found")
        rows = align(traces)
        selected = _selected(request.query_params.get("row"), rows)
        return "trace_compare.html", {
            "traces": traces,
            "rows": rows,
            "selected": selected,
            "selected_index": rows.index(selected) if selected else None,
            "attributes": attribute_rows(selected.spans) if selected else [],
            "summary": summary(traces),
            "slower": SLOWER,
            "pretty": trace_view.pretty,
            "ms": trace_view.ms,
            "nav": "experiments",
        }

    # The ids query parameter, one for each trace compared.
    return [renderer.get("/traces/compare", compare_page, requires("read", "trace", "ids"))]


def _selected(text: str | None, rows: list[Row]) -> Row | None:
    """The row the URL selects (?row=N), else the first one that differs, else the first."""
    if text and text.isdigit() and int(text) < len(rows):
        return rows[int(text)]
    return next((r for r in rows if r.differs), rows[0] if rows else None)


def paths(trace: Trace) -> dict[Path, Span]:
    """Each span of the trace by its place: the names from the root down, each with its rank
    among the siblings of that name (in start order)."""
    spans = sorted(trace.spans, key=lambda s: (s.start_time_ns, s.span_id))
    ids = {s.span_id for s in spans}
    children: dict[str | None, list[Span]] = {}
    for span in spans:
        parent = span.parent_span_id if span.parent_span_id in ids else None
        children.setdefault(parent, []).append(span)
    placed: dict[Path, Span] = {}
    seen: set[str] = set()

    def walk(parent: str | None, prefix: Path) -> None:
        ranks: dict[str, int] = {}
        for span in children.get(parent, []):
            if span.span_id in seen:  # a cycle of parent ids: each span once
                continue
            seen.add(span.span_id)
            rank = ranks.get(span.name, 0)
            ranks[span.name] = rank + 1
            path = (*prefix, (span.name, rank))
            placed[path] = span
            walk(span.span_id, path)

    walk(None, ())
    return placed


def align(traces: Sequence[Trace]) -> list[Row]:
    """The union of the traces' span places, parents before children, each place's children
    in the order the first trace that has them runs them."""
    placed = [paths(t) for t in traces]
    children: dict[Path, list[Path]] = {}
    for found in placed:
        for path in found:
            siblings = children.setdefault(path[:-1], [])
            if path not in siblings:
                siblings.append(path)
    rows: list[Row] = []

    def walk(parent: Path) -> None:
        for path in children.get(parent, []):
            spans = [found.get(path) for found in placed]
            rows.append(Row(path=path, spans=spans, differs=differences(spans)))
            walk(path)

    walk(())
    return rows


def _canonical(value: Any) -> bytes:
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return repr(value).encode()


def differences(spans: Sequence[Span | None]) -> frozenset[str]:
    """What differs between the spans of one place: missing, status, inputs, outputs,
    attributes, timing (one at least SLOWER times slower than the fastest)."""
    found = [s for s in spans if s is not None]
    marks = set()
    if len(found) < len(spans):
        marks.add("missing")
    if len({s.status for s in found}) > 1:
        marks.add("status")
    for name in ("inputs", "outputs", "attributes"):
        if len({_canonical(getattr(s, name)) for s in found}) > 1:
            marks.add(name)
    durations = [s.duration_ns for s in found if s.duration_ns is not None]
    if len(durations) > 1 and max(durations) > SLOWER * max(min(durations), 1_000_000):
        marks.add("timing")
    return frozenset(marks)


def attribute_rows(spans: Sequence[Span | None]) -> list[AttributeRow]:
    keys = sorted({k for s in spans if s is not None for k in s.attributes})
    rows = []
    for key in keys:
        values = [
            None
            if s is None or key not in s.attributes
            else trace_view.attribute_text(s.attributes[key])
            for s in spans
        ]
        rows.append(AttributeRow(key, values, len(set(values)) > 1))
    return rows


def summary(traces: Sequence[Trace]) -> list[tuple[str, list[str], bool]]:
    """The traces' own fields side by side: (label, values, whether they differ)."""
    fields = [
        ("Name", [t.info.name or "" for t in traces]),
        ("Status", [t.info.state.value for t in traces]),
        ("Duration", [
            "" if t.info.execution_duration is None else f"{t.info.execution_duration} ms"
            for t in traces
        ]),
        ("Tokens", [
            "" if t.info.token_usage is None else str(t.info.token_usage.total_tokens)
            for t in traces
        ]),
        ("Spans", [str(len(t.spans)) for t in traces]),
        ("Request", [t.info.request_preview or "" for t in traces]),
        ("Response", [t.info.response_preview or "" for t in traces]),
    ]  # fmt: skip
    return [(label, values, len(set(values)) > 1) for label, values in fields]
