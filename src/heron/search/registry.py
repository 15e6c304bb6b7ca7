"""The registry searches: which fields registered-model and model-version filters may name.

name LIKE 'fraud-%' AND tags.team = 'risk'                 (registered models)
name = 'fraud' AND version_number > 3 AND run_id IN ('a')  (model versions)
"""

from __future__ import annotations

from heron.search.grammar import (
    NUMERIC_OPS,
    PREFIXES,
    STRING_OPS,
    Comparison,
    Op,
    OrderKey,
    Parser,
    clauses,
    direction,
    order_clauses,
    typed,
)

_TAG_OPS: tuple[Op, ...] = ("=", "!=", "LIKE", "ILIKE")
_MODEL_ATTRS: dict[str, tuple[Op, ...]] = {"name": STRING_OPS}
_VERSION_ATTRS: dict[str, tuple[Op, ...]] = {
    "name": STRING_OPS,
    "run_id": STRING_OPS,
    "source_path": _TAG_OPS,
    "version_number": NUMERIC_OPS,
}
_MODEL_ORDER = {
    "name": "name",
    "creation_timestamp": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
    "timestamp": "last_updated_timestamp",  # MLflow compat: an alias of last_updated
}
_VERSION_ORDER = {
    "name": "name",
    "version_number": "version_number",
    "creation_timestamp": "creation_timestamp",
    "last_updated_timestamp": "last_updated_timestamp",
}


def parse_registered_model_filter(text: str | None) -> list[Comparison]:
    """Parses a registered-model filter: `name` and `tags.<key>` clauses joined by AND.

    Raises:
        InvalidParameter: the text is not a valid filter; the message says where and why.
    """
    return _parse(text, _MODEL_ATTRS)


def parse_model_version_filter(text: str | None) -> list[Comparison]:
    """Parses a model-version filter: `name`, `version_number`, `run_id`, `source_path` and
    `tags.<key>` clauses joined by AND.

    Raises:
        InvalidParameter: the text is not a valid filter; the message says where and why.
    """
    return _parse(text, _VERSION_ATTRS)


def parse_registered_model_order_by(clauses: list[str] | tuple[str, ...] | None) -> list[OrderKey]:
    """Parses order_by clauses (`name`, `last_updated_timestamp DESC`); ASC by default."""
    return _order(clauses, _MODEL_ORDER)


def parse_model_version_order_by(clauses: list[str] | tuple[str, ...] | None) -> list[OrderKey]:
    """Parses order_by clauses (`version_number DESC`, `name`); ASC by default."""
    return _order(clauses, _VERSION_ORDER)


def _parse(text: str | None, attrs: dict[str, tuple[Op, ...]]) -> list[Comparison]:
    result = []
    for parser, prefix, key, op, value in clauses(text, "filter"):
        entity = "attribute" if prefix is None else PREFIXES.get(prefix.lower())
        if entity == "tag":
            result.append(typed(parser, "tag", key, op, value, _TAG_OPS))
        elif entity == "attribute" and key in attrs:
            result.append(typed(parser, "attribute", key, op, value, attrs[key]))
        else:
            raise _unknown(parser, prefix, key, attrs)
    return result


def _unknown(
    parser: Parser, prefix: str | None, key: str, attrs: dict[str, tuple[Op, ...]]
) -> Exception:
    shown = key if prefix is None else f"{prefix}.{key}"
    return parser.fail(f"unknown identifier {shown!r}; use {', '.join(attrs)} or tags.<key>")


def _order(clauses: list[str] | tuple[str, ...] | None, fields: dict[str, str]) -> list[OrderKey]:
    result = []
    seen: set[str] = set()
    for parser, prefix, key in order_clauses(clauses):
        entity = "attribute" if prefix is None else PREFIXES.get(prefix.lower())
        field = fields.get(key) if entity == "attribute" else None
        if field is None:
            raise parser.fail(f"cannot order by it; use one of {', '.join(fields)}")
        if field in seen:
            raise parser.fail(f"{key!r} appears twice in order_by")
        seen.add(field)
        result.append(OrderKey("attribute", field, direction(parser)))
    return result
