"""What a trace's row takes from its spans: the row of a trace whose spans arrive before its
info, the state, times and previews its root span gives it, and its spans' token counts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from heron.entities import reserved
from heron.entities.trace import Span, SpanStatusCode, TraceState
from heron.store import ids
from heron.store.crypto.fields import Sealer
from heron.store.sql.search_sql import bindable
from heron.store.sql.traces_derived import COST_FIELDS
from heron.store.sql.traces_rows import dumps

PREVIEW_CHARS = 1000
NO_DERIVED = {"session_id": None, "model_id": None, "user_id": None, **dict.fromkeys(COST_FIELDS)}


def placeholder_row(trace_id: str, experiment_id: str, group: Iterable[Span]) -> dict[str, Any]:
    """The row of a trace whose spans arrive before its info."""
    start = min(s.start_time_ns for s in group)
    return {
        "trace_id": trace_id,
        "experiment_id": ids.experiment_key(experiment_id),
        "client_request_id": None,
        "request_time": start // 1_000_000,
        "execution_duration": None,
        "state": TraceState.IN_PROGRESS.value,
        "request_preview": None,
        "response_preview": None,
        "input_tokens": None,
        "output_tokens": None,
        "total_tokens": None,
        **NO_DERIVED,
    }


def _preview(value: Any) -> str | None:
    if value is None:
        return None
    text = value if isinstance(value, str) else dumps(value)
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 3] + "..."


def root_update(root: Span, sealer: Sealer) -> dict[str, Any]:
    state = TraceState.ERROR if root.status == SpanStatusCode.ERROR else TraceState.OK
    end = root.end_time_ns
    return {
        "tid": root.trace_id,
        "in_progress": TraceState.IN_PROGRESS.value,
        "state": state.value if end is not None else TraceState.IN_PROGRESS.value,
        "request_time": root.start_time_ns // 1_000_000,
        "execution_duration": None if end is None else (end - root.start_time_ns) // 1_000_000,
        "request_preview": sealer.seal_optional(_preview(root.inputs)),
        "response_preview": sealer.seal_optional(_preview(root.outputs)),
    }


def token_sum(group: Iterable[Span]) -> dict[str, int] | None:
    """The spans' token counts summed for their trace's columns, or None when there are none.

    A span's usage with a count that is not a non-negative integer is skipped, and totals past
    64 bits are left unset: the spans keep their attributes as sent either way."""
    totals = {"input_tokens": 0, "output_tokens": 0, "total_tokens": 0}
    seen = False
    for span in group:
        usage = span.attributes.get(reserved.CHAT_TOKEN_USAGE)
        if not isinstance(usage, Mapping):
            continue
        counts = {k: usage.get(k) for k in totals}
        if not all(n is None or (type(n) is int and n >= 0) for n in counts.values()):
            continue
        seen = True
        inputs, outputs = counts["input_tokens"] or 0, counts["output_tokens"] or 0
        totals["input_tokens"] += inputs
        totals["output_tokens"] += outputs
        totals["total_tokens"] += counts["total_tokens"] or inputs + outputs
    if not seen or not all(map(bindable, totals.values())):
        return None
    return totals
