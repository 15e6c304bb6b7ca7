"""Which fields an evaluation-dataset search may name: `name`, `created_by`,
`last_updated_by`, `digest`, `tags.<key>`; order by `name`, `created_time`,
`last_update_time`."""

from __future__ import annotations

from heron.errors import InvalidParameter
from heron.search.grammar import (
    PREFIXES,
    STRING_OPS,
    Comparison,
    Op,
    OrderKey,
    clauses,
    direction,
    order_clauses,
    typed,
)

_TAG_OPS: tuple[Op, ...] = ("=", "!=", "LIKE", "ILIKE")
_ATTRS = ("name", "created_by", "last_updated_by", "digest")
_ORDER = ("name", "created_time", "last_update_time")


def parse_dataset_filter(text: str | None) -> list[Comparison]:
    """Raises InvalidParameter for a filter the grammar or these fields do not allow."""
    result = []
    for parser, prefix, key, op, value in clauses(text, "filter"):
        entity = "attribute" if prefix is None else PREFIXES.get(prefix.lower())
        if entity == "tag":
            result.append(typed(parser, "tag", key, op, value, _TAG_OPS))
        elif entity == "attribute" and key in _ATTRS:
            result.append(typed(parser, "attribute", key, op, value, STRING_OPS))
        else:
            shown = key if prefix is None else f"{prefix}.{key}"
            raise InvalidParameter(
                f"Invalid filter {text!r}: a dataset search names {', '.join(_ATTRS)} or "
                f"tags.<key>, not {shown!r}"
            )
    return result


def parse_dataset_order_by(order_by: list[str] | tuple[str, ...] | None) -> list[OrderKey]:
    keys = []
    for parser, _prefix, key in order_clauses(order_by):
        if key not in _ORDER:
            raise InvalidParameter(
                f"Invalid order_by {key!r}: a dataset search orders by {', '.join(_ORDER)}"
            )
        keys.append(OrderKey("attribute", key, direction(parser)))
    return keys
