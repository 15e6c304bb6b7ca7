"""The trace search: which fields its filter and order_by name.

    trace.status = 'ERROR' AND timestamp_ms > 1700000000000 AND execution_time_ms < 500
    tags.color = 'red' AND metadata.`mlflow.user` IS NOT NULL AND name RLIKE '^chat'
    span.name = 'retrieve' AND span.type = 'RETRIEVER' AND span.content LIKE '%invoice%'
    span.attributes.model = 'gpt-4o' AND feedback.score > 0.5 AND expectation.answer = '42'
    prompt = 'qa/3' AND issue.id = 'iss-1'

Bare names, `trace.` and `attributes.` are the trace's own fields: status (or state),
timestamp_ms (request_time), execution_time_ms, end_time_ms, name (the trace's name),
client_request_id, run_id (the run it was linked to) and trace_id. A span clause matches a trace
with at least one such span; feedback and expectation clauses compare the assessment's value as
text (true, 0.5), or as a number with < <= > >=. The comparators each kind takes are MLflow's
(docs/search.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from heron.errors import InvalidParameter
from heron.search.grammar import (
    NUMERIC_OPS,
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
    "attribute",
    "tag",
    "metadata",
    "span",
    "span_attribute",
    "span_content",
    "feedback",
    "expectation",
    "prompt",
    "issue",
]

STRING_ATTRIBUTES = ("status", "name", "client_request_id", "run_id", "trace_id")
NUMERIC_ATTRIBUTES = ("timestamp_ms", "execution_time_ms", "end_time_ms")
SPAN_FIELDS = ("name", "type", "status")
_ATTRIBUTE_ALIASES = {
    "state": "status",
    "timestamp": "timestamp_ms",
    "request_time": "timestamp_ms",
    "execution_time": "execution_time_ms",
    "execution_duration": "execution_time_ms",
    "execution_duration_ms": "execution_time_ms",
    "end_time": "end_time_ms",
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
    "issue": "issue",
}
ORDER_ATTRIBUTES = ("timestamp_ms", "execution_time_ms", "status", "trace_id", "name")

# The comparators of each field kind, as MLflow 3.17.2 answers them (docs/search.md has the
# table). IN and NOT IN on tags, metadata, names, run ids, span attributes and assessments are
# Heron's own: MLflow refuses them there.
TEXT_OPS: tuple[Op, ...] = ("=", "!=", "LIKE", "ILIKE", "RLIKE", "IN", "NOT IN")
KEY_OPS: tuple[Op, ...] = (*TEXT_OPS, "IS NULL", "IS NOT NULL")
ORDERING_OPS: tuple[Op, ...] = ("<", "<=", ">", ">=")
_CONTENT_OPS: tuple[Op, ...] = ("LIKE", "ILIKE")
_EXACT_OPS: tuple[Op, ...] = ("=",)
_KEYED_ATTRIBUTES = ("name", "run_id")  # kept as a tag and a metadata entry: they may be absent


@dataclass(frozen=True, slots=True)
class TraceClause:
    """`field.key op value`: value is an int for the time fields, a float for an assessment
    compared with < <= > >=, a tuple for IN / NOT IN, None for IS [NOT] NULL, otherwise a
    string (for `prompt`, "name/version")."""

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
        result.append(_clause(parser, field, key, op, value))
    return result


def _clause(parser: Parser, field: TraceField, key: str, op: Op, value: Value) -> TraceClause:
    if field == "attribute" and key in NUMERIC_ATTRIBUTES:
        clause = typed(parser, "attribute", key, op, value, NUMERIC_OPS)
        return TraceClause(field, key, clause.op, clause.value)
    if field in ("feedback", "expectation") and op in ORDERING_OPS:
        if not isinstance(value, Number):
            raise parser.fail(f"{field}.{key} {op} needs an unquoted number, e.g. {op} 0.5")
        return TraceClause(field, key, op, float(value))
    if field in ("feedback", "expectation") and isinstance(value, Number):
        raise parser.fail(
            f"{field}.{key} {op} takes a quoted value (e.g. {op} '{value}'); compare numbers "
            "with < <= > >="
        )
    if isinstance(value, Number):
        value = str(value)  # MLflow compat: an unquoted number compared with text is text
    clause = typed(parser, "tag", f"{field}.{key}", op, value, _ops(field, key))
    if field == "prompt" and (not isinstance(value, str) or value.count("/") != 1):
        raise parser.fail("prompt takes a prompt version as 'name/version', e.g. = 'qa/3'")
    return TraceClause(field, key, clause.op, clause.value)


def _ops(field: TraceField, key: str) -> tuple[Op, ...]:
    if field == "attribute":
        return KEY_OPS if key in _KEYED_ATTRIBUTES else TEXT_OPS
    if field in ("tag", "metadata", "feedback", "expectation"):
        return KEY_OPS
    if field == "span_content":
        return _CONTENT_OPS
    if field in ("prompt", "issue"):
        return _EXACT_OPS
    return TEXT_OPS


def _field(parser: Parser, prefix: str | None, key: str) -> tuple[TraceField, str]:
    if prefix is None and key == "prompt":
        return "prompt", key
    if prefix is None or prefix.lower() in _ATTRIBUTE_PREFIXES:
        name = _ATTRIBUTE_ALIASES.get(key, key)
        if name not in (*STRING_ATTRIBUTES, *NUMERIC_ATTRIBUTES):
            allowed = ", ".join((*STRING_ATTRIBUTES, *NUMERIC_ATTRIBUTES, "prompt"))
            raise parser.fail(f"unknown trace field {key!r}; use one of {allowed}")
        return "attribute", name
    lowered = prefix.lower()
    if lowered == "span":
        head, dot, rest = key.partition(".")
        if head in ("attributes", "attribute") and dot and rest:
            return "span_attribute", rest
        if head in SPAN_FIELDS and not dot:
            return "span", head
        if head == "content" and not dot:
            return "span_content", head
        raise parser.fail(
            f"unknown span field {key!r}; use span.name, span.type, span.status, span.content "
            "or span.attributes.<key>"
        )
    field = _PREFIXES.get(lowered)
    if field is None:
        raise parser.fail(
            f"unknown prefix {prefix!r}; use trace., tags., metadata., span., feedback., "
            "expectation. or issue. (e.g. tags.color = 'red')"
        )
    if field == "issue" and key != "id":
        raise parser.fail(f"unknown issue field {key!r}; use issue.id")
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
