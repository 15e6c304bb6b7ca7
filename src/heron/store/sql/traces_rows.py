"""Rows of the trace tables to entities and back: spans, infos and assessments (sealed
fields opened on the way)."""

from __future__ import annotations

import dataclasses
import functools
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from sqlalchemy import (
    Connection,
    Select,
    Table,
    select,
)

from heron.entities.assessment import (
    Assessment,
    AssessmentError,
    AssessmentKind,
    AssessmentSource,
    AssessmentSourceType,
)
from heron.entities.trace import (
    Span,
    SpanEvent,
    SpanStatusCode,
    TokenUsage,
    Trace,
    TraceInfo,
    TraceState,
)
from heron.store.crypto.fields import Sealer
from heron.store.sql.database import fetch
from heron.store.sql.json_sql import bound_list, in_bound_list, json_object_agg
from heron.store.sql.sealed_values import opened_pairs
from heron.store.sql.tables import assessments, spans, trace_metadata, trace_tags, traces
from heron.store.sql.traces_derived import score_of
from heron.store.sql.traces_sealed import (
    opened_assessment_row,
    opened_info_row,
    opened_span_row,
)

# Enum members by value: a dict lookup, where calling the enum costs microseconds a row.
_STATUS = {s.value: s for s in SpanStatusCode}
_STATE = {s.value: s for s in TraceState}
# What an entity is read from; the columns kept for the GenAI views' aggregates (0015) come last
# and are left out.
TRACE_COLUMNS = tuple(traces.c)[:11]
SPAN_COLUMNS = tuple(c for c in spans.c if c.name != "experiment_id")
ASSESSMENT_COLUMNS = tuple(assessments.c)[:16]
ASSESSMENTS_OF = (
    select(*ASSESSMENT_COLUMNS)
    .where(in_bound_list(assessments.c.trace_id))
    .order_by(assessments.c.trace_id, assessments.c.create_time, assessments.c.assessment_id)
)
SPANS_OF = (
    select(*SPAN_COLUMNS)
    .where(in_bound_list(spans.c.trace_id))
    .order_by(spans.c.trace_id, spans.c.start_time_ns, spans.c.span_id)
)


@functools.cache
def pairs_of(dialect: str, table: Table) -> Select[Any]:
    """(trace_id, JSON object of key -> value) for the tags or metadata of the traces bound
    as `ids` (bound_list): one row a trace, decoded by orjson in C."""
    return (
        select(table.c.trace_id, json_object_agg(dialect, table.c.key, table.c.value))
        .where(in_bound_list(table.c.trace_id))
        .group_by(table.c.trace_id)
    )


def dumps(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _loads(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str | bytes):
        return orjson.loads(value)
    return value  # psycopg decodes json columns itself


def span_row(span: Span, experiment_id: int) -> dict[str, Any]:
    return {
        "experiment_id": experiment_id,
        "trace_id": span.trace_id,
        "span_id": span.span_id,
        "parent_span_id": span.parent_span_id,
        "name": span.name,
        "span_type": span.span_type,
        "status": span.status.value,
        "status_message": span.status_message or None,
        "start_time_ns": span.start_time_ns,
        "end_time_ns": span.end_time_ns,
        "attributes": dumps(dict(span.attributes)),
        "events": dumps(
            [
                {"name": e.name, "time_unix_nano": e.time_unix_nano, "attributes": e.attributes}
                for e in span.events
            ]
        )
        if span.events
        else None,
        "inputs": None if span.inputs is None else dumps(span.inputs),
        "outputs": None if span.outputs is None else dumps(span.outputs),
    }


def span_from_row(row: Sequence[Any]) -> Span:
    (trace_id, span_id, parent, name, span_type, status, message, start, end, attributes,
     events, inputs, outputs) = row  # fmt: skip
    # Text columns hold JSON text on every dialect; psycopg decodes the JSON column itself.
    return Span(
        trace_id=trace_id,
        span_id=span_id,
        parent_span_id=parent,
        name=name,
        span_type=span_type,
        status=_STATUS[status],
        status_message=message or "",
        start_time_ns=start,
        end_time_ns=end,
        attributes=attributes if type(attributes) is dict else orjson.loads(attributes),
        events=[] if events is None else _events(orjson.loads(events)),
        inputs=None if inputs is None else orjson.loads(inputs),
        outputs=None if outputs is None else orjson.loads(outputs),
    )


def _events(events: list[dict[str, Any]]) -> list[SpanEvent]:
    return [
        SpanEvent(
            name=e["name"],
            time_unix_nano=e["time_unix_nano"],
            attributes=e.get("attributes") or {},
        )
        for e in events
    ]


def info_from_row(
    row: Sequence[Any],
    tags: Mapping[str, str],
    metadata: Mapping[str, str],
    found: Sequence[Assessment],
) -> TraceInfo:
    (trace_id, experiment_id, client_request_id, request_time, duration, state, request_preview,
     response_preview, input_tokens, output_tokens, total_tokens) = row[:11]  # fmt: skip
    usage = None
    if total_tokens is not None:
        usage = TokenUsage(
            input_tokens=input_tokens or 0,
            output_tokens=output_tokens or 0,
            total_tokens=total_tokens,
        )
    return TraceInfo(
        trace_id=trace_id,
        experiment_id=str(experiment_id),
        request_time=request_time,
        execution_duration=duration,
        state=_STATE[state],
        request_preview=request_preview,
        response_preview=response_preview,
        client_request_id=client_request_id,
        trace_metadata=dict(metadata),
        tags=dict(tags),
        assessments=found,
        token_usage=usage,
    )


def assessment_row(a: Assessment) -> dict[str, Any]:
    return {
        "assessment_id": a.assessment_id,
        "trace_id": a.trace_id,
        "name": a.name,
        "kind": a.kind.value,
        "span_id": a.span_id,
        "source_type": a.source.source_type.value,
        "source_id": a.source.source_id,
        "value": None if a.value is None else dumps(a.value),
        "value_text": value_text(a.value),
        "rationale": a.rationale,
        "error": None if a.error is None else dumps(_error_dict(a.error)),
        "assessment_metadata": dumps(dict(a.metadata)) if a.metadata else None,
        "create_time": a.create_time,
        "last_update_time": a.last_update_time,
        "overrides": a.overrides,
        "valid": a.valid,
        "score": score_of(a.value),
    }


def value_text(value: Any) -> str | None:
    """How filters see a value: strings as they are, anything else as JSON (true, 0.5)."""
    if value is None:
        return None
    return value if isinstance(value, str) else dumps(value)


def _error_dict(error: AssessmentError) -> dict[str, str]:
    return {k: v for k, v in dataclasses.asdict(error).items() if v is not None}


def assessment_from_row(row: Sequence[Any], sealer: Sealer) -> Assessment:
    """An assessment from a row of ASSESSMENT_COLUMNS, its sealed value and rationale opened."""
    row = opened_assessment_row(sealer, row)
    (assessment_id, trace_id, name, kind, span_id, source_type, source_id, value, _text,
     rationale, error, metadata, created, updated, overrides, valid) = row  # fmt: skip
    error_fields = _loads(error)
    return Assessment(
        assessment_id=assessment_id,
        trace_id=trace_id,
        name=name,
        kind=AssessmentKind(kind),
        value=_loads(value),
        source=AssessmentSource(source_type=AssessmentSourceType(source_type), source_id=source_id),
        span_id=span_id,
        rationale=rationale,
        error=AssessmentError(**error_fields) if error_fields else None,
        metadata=_loads(metadata) or {},
        create_time=created,
        last_update_time=updated,
        overrides=overrides,
        valid=bool(valid),
    )


def with_their_spans(conn: Connection, infos: Sequence[TraceInfo], sealer: Sealer) -> list[Trace]:
    """The traces of `infos` with their spans, all read in one query."""
    by_trace: dict[str, list[Span]] = {i.trace_id: [] for i in infos}
    if by_trace:
        for row in fetch(conn, SPANS_OF, {"ids": bound_list(by_trace)}):
            by_trace[row[0]].append(span_from_row(opened_span_row(sealer, row)))
    return [Trace(info=i, spans=by_trace[i.trace_id]) for i in infos]


def load_infos(conn: Connection, rows: Sequence[Sequence[Any]], sealer: Sealer) -> list[TraceInfo]:
    """Trace infos with their tags, metadata and assessments in a constant number of queries;
    sealed previews and tags opened."""
    if not rows:
        return []
    ids = {"ids": bound_list(row[0] for row in rows)}
    dialect = conn.dialect.name
    loads = orjson.loads
    tags = {
        tid: opened_pairs(sealer, loads(pairs), "trace tag")
        for tid, pairs in fetch(conn, pairs_of(dialect, trace_tags), ids)
    }
    metadata = {
        tid: opened_pairs(sealer, loads(pairs), "trace metadata")
        for tid, pairs in fetch(conn, pairs_of(dialect, trace_metadata), ids)
    }
    found: dict[str, list[Assessment]] = defaultdict(list)
    for row in fetch(conn, ASSESSMENTS_OF, ids):
        found[row[1]].append(assessment_from_row(row, sealer))
    return [
        info_from_row(
            opened_info_row(sealer, row),
            tags.get(row[0], {}),
            metadata.get(row[0], {}),
            found.get(row[0], ()),
        )
        for row in rows
    ]
