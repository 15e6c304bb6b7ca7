"""What field encryption seals of a trace: its request and response previews, the copies of
them MLflow's client puts in its metadata, and its spans' inputs and outputs (tags of
sensitive keys go through sealed_values); the rows sealed and opened, and the trace searches
refused because they would read sealed content."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from heron.entities import reserved
from heron.entities.assessment import AssessmentKind
from heron.errors import InvalidParameter
from heron.search.traces import TraceClause
from heron.store.crypto.fields import PREFIX, Sealer
from heron.store.sql.sealed_values import PRESENCE_OPS, refuse_sealed_keys
from heron.store.sql.traces_sealed_spans import opened_span_content, sealed_attribute_key

SEALED_METADATA = (reserved.TRACE_INPUTS, reserved.TRACE_OUTPUTS)
# Positions in the rows of traces_rows.TRACE_COLUMNS, SPAN_COLUMNS and ASSESSMENT_COLUMNS.
_PREVIEWS = (6, 7)
_SPAN_CONTENT = (11, 12)
_ASSESSMENT_VALUE = (7, 9)  # value, rationale


def sealed_metadata(sealer: Sealer, pairs: Mapping[str, str]) -> Mapping[str, str]:
    """A trace's metadata with the request and response copies sealed."""
    if not sealer.on or not any(k in pairs for k in SEALED_METADATA):
        return pairs
    return {k: sealer.seal(v) if k in SEALED_METADATA else v for k, v in pairs.items()}


def _opened(
    sealer: Sealer, row: Sequence[Any], at: tuple[int, int], what: tuple[str, str]
) -> Sequence[Any]:
    first, second = row[at[0]], row[at[1]]
    if not (_sealed(first) or _sealed(second)):
        return row
    opened = list(row)
    opened[at[0]] = sealer.open_optional(first, f"The {what[0]} {row[0]!r}")
    opened[at[1]] = sealer.open_optional(second, f"The {what[1]} {row[0]!r}")
    return opened


def _sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def opened_info_row(sealer: Sealer, row: Sequence[Any]) -> Sequence[Any]:
    """A row of TRACE_COLUMNS with its previews opened."""
    return _opened(
        sealer, row, _PREVIEWS, ("request preview of trace", "response preview of trace")
    )


def opened_span_row(sealer: Sealer, row: Sequence[Any]) -> Sequence[Any]:
    """A row of SPAN_COLUMNS with its inputs and outputs opened, and the sealed values of its
    attributes and events."""
    row = _opened(
        sealer, row, _SPAN_CONTENT, ("inputs of a span of trace", "outputs of a span of trace")
    )
    return opened_span_content(sealer, row)


def sealed_assessment_row(sealer: Sealer, row: dict[str, Any]) -> dict[str, Any]:
    """An assessment row (traces_rows.assessment_row) as stored: its rationale sealed, and an
    expectation's value (with no copy for filters, and no score). A feedback's value stays in
    clear: the GenAI views sum its score in SQL, and filters and agreement read it."""
    if not sealer.on:
        return row
    row["rationale"] = sealer.seal_optional(row["rationale"])
    if row["kind"] == AssessmentKind.EXPECTATION.value and row["value"] is not None:
        row.update(value=sealer.seal(row["value"]), value_text=None, score=None)
    return row


def opened_assessment_row(sealer: Sealer, row: Sequence[Any]) -> Sequence[Any]:
    """A row of ASSESSMENT_COLUMNS with its value and rationale opened."""
    return _opened(
        sealer, row, _ASSESSMENT_VALUE, ("value of assessment", "rationale of assessment")
    )


def refuse_sealed_clauses(sealer: Sealer, clauses: Iterable[TraceClause]) -> None:
    """Refuses a trace filter that would read sealed content: span.content (the spans'
    inputs and outputs are sealed), the value of a tag or a span attribute of a sensitive
    key, and the value of an expectation.

    Raises:
        InvalidParameter: naming the field and why.
    """
    if not sealer.on:
        return
    clauses = list(clauses)
    for c in clauses:
        if c.field == "metadata" and c.key in SEALED_METADATA and c.op not in PRESENCE_OPS:
            raise InvalidParameter(
                f"Cannot filter on the value of metadata {c.key!r}: it holds the trace's "
                "request or response, encrypted in the database (field encryption is on)"
            )
        if (
            c.field == "span_attribute"
            and c.op not in PRESENCE_OPS
            and sealed_attribute_key(sealer.is_sensitive, c.key)
        ):
            raise InvalidParameter(
                f"Cannot filter on the value of span attribute {c.key!r}: its values are "
                "encrypted in the database (it matches a --sensitive-keys pattern, or it "
                "holds a span's inputs, outputs or messages); filter on other attributes"
            )
        if c.field == "expectation" and c.op not in PRESENCE_OPS:
            raise InvalidParameter(
                f"Cannot filter on the value of expectation {c.key!r}: expectations' values "
                "are encrypted in the database (field encryption is on); only `IS NULL` and "
                "`IS NOT NULL` can be asked of it. Feedback values stay searchable"
            )
        if c.field == "span_content":
            raise InvalidParameter(
                "Cannot filter on span.content: spans' inputs and outputs are encrypted in the "
                "database (field encryption is on). Filter on span.name, span.type, "
                "span.status, span.attributes.<key>, tags or metadata instead"
            )
    refuse_sealed_keys(sealer, ((c.field, c.key, c.op) for c in clauses))
