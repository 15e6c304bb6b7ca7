"""What field encryption seals of a trace: its request and response previews, the copies of
them MLflow's client puts in its metadata, and its spans' inputs and outputs (tags of
sensitive keys go through sealed_values); the rows sealed and opened, and the trace searches
refused because they would read sealed content."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from heron.entities import reserved
from heron.errors import InvalidParameter
from heron.search.traces import TraceClause
from heron.store.crypto.fields import PREFIX, Sealer
from heron.store.sql.sealed_values import PRESENCE_OPS, refuse_sealed_keys

SEALED_METADATA = (reserved.TRACE_INPUTS, reserved.TRACE_OUTPUTS)
# Positions in the rows of traces_rows.TRACE_COLUMNS and SPAN_COLUMNS.
_PREVIEWS = (6, 7)
_SPAN_CONTENT = (11, 12)


def sealed_span_row(sealer: Sealer, row: dict[str, Any]) -> dict[str, Any]:
    if sealer.on:
        row["inputs"] = sealer.seal_optional(row["inputs"])
        row["outputs"] = sealer.seal_optional(row["outputs"])
    return row


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
    opened[at[0]] = sealer.open_optional(first, f"The {what[0]} of {row[0]!r}")
    opened[at[1]] = sealer.open_optional(second, f"The {what[1]} of {row[0]!r}")
    return opened


def _sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def opened_info_row(sealer: Sealer, row: Sequence[Any]) -> Sequence[Any]:
    """A row of TRACE_COLUMNS with its previews opened."""
    return _opened(
        sealer, row, _PREVIEWS, ("request preview of trace", "response preview of trace")
    )


def opened_span_row(sealer: Sealer, row: Sequence[Any]) -> Sequence[Any]:
    """A row of SPAN_COLUMNS with its inputs and outputs opened."""
    return _opened(
        sealer, row, _SPAN_CONTENT, ("inputs of a span of trace", "outputs of a span of trace")
    )


def refuse_sealed_clauses(sealer: Sealer, clauses: Iterable[TraceClause]) -> None:
    """Refuses a trace filter that would read sealed content: span.content (the spans'
    inputs and outputs are sealed) and the value of a tag of a sensitive key.

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
        if c.field == "span_content":
            raise InvalidParameter(
                "Cannot filter on span.content: spans' inputs and outputs are encrypted in the "
                "database (field encryption is on). Filter on span.name, span.type, "
                "span.status, span.attributes.<key>, tags or metadata instead"
            )
    refuse_sealed_keys(sealer, ((c.field, c.key, c.op) for c in clauses))
