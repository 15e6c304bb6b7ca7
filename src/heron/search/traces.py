"""The trace search: which fields its filter and order_by name.

    trace.status = 'ERROR' AND timestamp_ms > 1700000000000 AND execution_time_ms < 500
    tags.color = 'red' AND metadata.`mlflow.user` = 'alice' AND name LIKE 'chat%'
    span.name = 'retrieve' AND span.type = 'RETRIEVER' AND span.status = 'ERROR'
    span.attributes.model = 'gpt-4o' AND feedback.correct = 'true' AND expectation.answer = '42'

Bare names, `trace.` and `attributes.` are the trace's own fields: status (or state),
timestamp_ms (request_time), execution_time_ms, name (the trace's name), client_request_id,
run_id (the run it was linked to) and trace_id. A span clause matches a trace with at least one
such span; feedback and expectation clauses compare the assessment's value as text (true, 0.5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from heron.errors import InvalidParameter
from heron.search.grammar import (
    NUMERIC_OPS,
    STRING_OPS,
    Number,
    Op,
    Parser,
    Value,
    clauses,
    direction,
    order_clauses,
    typed,
)

TraceField = Literal[
    "attribute", "tag", "metadata", "span", "span_attribute", "feedback", "expectation"
]

STRING_ATTRIBUTES = ("status", "name", "client_request_id", "run_id", "trace_id")
NUMERIC_ATTRIBUTES = ("timestamp_ms", "execution_time_ms")
SPAN_FIELDS = ("name", "type", "status")
_ATTRIBUTE_ALIASES = {
    "state": "status",
    "timestamp": "timestamp_ms",
    "request_time": "timestamp_ms",
    "execution_time": "execution_time_ms",
    "execution_duration": "execution_time_ms",
    "execution_duration_ms": "execution_time_ms",
    "request_id": "trace_id",
}
_ATTRIBUTE_PREFIXES = ("trace", "attributes", "attribute", "attr")
_PREFIXES: dict[str, TraceField] = {
    "tags": "tag",
    "tag": "tag",
    "metadata": "metadata",
    "request_metadata": "metadata",
    "feedback": "feedback",
    "expectation": "expectation",
}
ORDER_ATTRIBUTES = ("timestamp_ms", "execution_time_ms", "status", "trace_id", "name")


@dataclass(frozen=True, slots=True)
class TraceClause:
    """`field.key op value`: value is an int for the time fields, a tuple for IN / NOT IN,
    otherwise a string."""

    field: TraceField
    key: str
    op: Op
    value: Value


@dataclass(frozen=True, slots=True)
class TraceOrderKey:
    key: str  # one of ORDER_ATTRIBUTES
    ascending: bool = True


def parse_trace_filter(text: str | None) -> list[TraceClause]:
    """Parses a trace filter into clauses.

    Raises:
        InvalidParameter: the text is not a valid trace filter; the message says why.
    """
    result = []
    for parser, prefix, key, op, value in clauses(text, "filter"):
        field, key = _field(parser, prefix, key)
        numeric = field == "attribute" and key in NUMERIC_ATTRIBUTES
        if not numeric and isinstance(value, Number):
            value = str(value)  # MLflow compat: an unquoted number compared with text is text
        ops: tuple[Op, ...] = NUMERIC_OPS if numeric else STRING_OPS
        clause = typed(parser, "attribute" if numeric else "tag", key, op, value, ops)
        result.append(TraceClause(field, key, clause.op, clause.value))
    return result


def _field(parser: Parser, prefix: str | None, key: str) -> tuple[TraceField, str]:
    if prefix is None or prefix.lower() in _ATTRIBUTE_PREFIXES:
        name = _ATTRIBUTE_ALIASES.get(key, key)
        if name not in (*STRING_ATTRIBUTES, *NUMERIC_ATTRIBUTES):
            allowed = ", ".join((*STRING_ATTRIBUTES, *NUMERIC_ATTRIBUTES))
            raise parser.fail(f"unknown trace field {key!r}; use one of {allowed}")
        return "attribute", name
    lowered = prefix.lower()
    if lowered == "span":
        head, dot, rest = key.partition(".")
        if head in ("attributes", "attribute") and dot and rest:
            return "span_attribute", rest
        if head in SPAN_FIELDS and not dot:
            return "span", head
        raise parser.fail(
            f"unknown span field {key!r}; use span.name, span.type, span.status or "
            "span.attributes.<key>"
        )
    field = _PREFIXES.get(lowered)
    if field is None:
        raise parser.fail(
            f"unknown prefix {prefix!r}; use trace., tags., metadata., span., feedback. or "
            "expectation. (e.g. tags.color = 'red')"
        )
    return field, key


def parse_trace_order_by(items: list[str] | tuple[str, ...] | None) -> list[TraceOrderKey]:
    """Parses order_by clauses such as `timestamp_ms DESC` or `execution_time_ms`.

    Raises:
        InvalidParameter: a clause names no sortable field.
    """
    result = []
    for parser, prefix, key in order_clauses(items):
        name = _ATTRIBUTE_ALIASES.get(key, key)
        if (prefix is not None and prefix.lower() not in _ATTRIBUTE_PREFIXES) or (
            name not in ORDER_ATTRIBUTES
        ):
            raise InvalidParameter(
                f"Cannot order traces by {parser.text!r}; use one of "
                f"{', '.join(ORDER_ATTRIBUTES)}, then ASC or DESC"
            )
        result.append(TraceOrderKey(name, direction(parser)))
    return result
