"""The run and experiment searches: which fields their filters and order_by clauses name."""

from __future__ import annotations

from heron.search.grammar import (
    KEY_OPS,
    NUMERIC_OPS,
    PREFIXES,
    STRING_OPS,
    Comparison,
    Entity,
    Op,
    OrderKey,
    Parser,
    clauses,
    direction,
    order_clauses,
    typed,
)

_EXPERIMENT_TAG_OPS: tuple[Op, ...] = ("=", "!=", "LIKE", "ILIKE", "IS NULL", "IS NOT NULL")

_RUN_STRING_ATTRS = ("run_id", "run_name", "status", "user_id", "artifact_uri", "lifecycle_stage")
_RUN_TIME_ATTRS = ("start_time", "end_time")
_RUN_ATTR_ALIASES = {"created": "start_time"}
_RUN_ORDER_ATTRS = (
    "start_time",
    "end_time",
    "run_name",
    "status",
    "run_id",
    "user_id",
    "artifact_uri",
)
_DATASET_KEYS = ("name", "digest", "context")
_EXPERIMENT_TIME_ATTRS = ("creation_time", "last_update_time")
_EXPERIMENT_ORDER_ATTRS = ("name", "experiment_id", "creation_time", "last_update_time")


def parse_run_filter(text: str | None) -> list[Comparison]:
    """Parses a runs filter (`metrics.acc > 0.8 AND tags.team = 'x'`) into clauses.

    Raises:
        InvalidParameter: the text is not a valid filter; the message says where and why.
    """
    result = []
    for parser, prefix, key, op, value in clauses(text, "filter"):
        entity = _run_entity(parser, prefix, key)
        if entity == "attribute":
            key = _RUN_ATTR_ALIASES.get(key, key)
        result.append(typed(parser, entity, key, op, value, _run_ops(entity, key)))
    return result


def parse_experiment_filter(text: str | None) -> list[Comparison]:
    """Parses an experiments filter (`name LIKE 'a%' AND tags.team = 'x'`) into clauses.

    Raises:
        InvalidParameter: the text is not a valid filter; the message says where and why.
    """
    result = []
    for parser, prefix, key, op, value in clauses(text, "filter"):
        entity = _experiment_entity(parser, prefix, key)
        if entity == "tag":
            ops = _EXPERIMENT_TAG_OPS
        elif key == "name":
            ops = ("=", "!=", "LIKE", "ILIKE")
        elif key == "experiment_id":
            ops = ("=", "!=")
        else:
            ops = NUMERIC_OPS
        result.append(typed(parser, entity, key, op, value, ops))
    return result


def _run_entity(parser: Parser, prefix: str | None, key: str) -> Entity:
    if prefix is None:
        if _RUN_ATTR_ALIASES.get(key, key) in (*_RUN_STRING_ATTRS, *_RUN_TIME_ATTRS):
            return "attribute"
        raise parser.fail(
            f"{key!r} is not a known identifier; prefix it with metrics., "
            "params., tags., attributes. or datasets. (e.g. tags.team)"
        )
    entity = PREFIXES.get(prefix.lower())
    if entity is None:
        raise parser.fail(
            f"unknown prefix {prefix!r}; use metrics., params., tags., attributes. or "
            "datasets. (e.g. tags.team)"
        )
    if entity == "attribute":
        allowed = (*_RUN_STRING_ATTRS, *_RUN_TIME_ATTRS, *_RUN_ATTR_ALIASES)
        if key not in allowed:
            raise parser.fail(f"unknown attribute {key!r}; use one of {', '.join(allowed)}")
    if entity == "dataset" and key not in _DATASET_KEYS:
        raise parser.fail(f"unknown dataset field {key!r}; use one of {', '.join(_DATASET_KEYS)}")
    return entity


def _run_ops(entity: Entity, key: str) -> tuple[Op, ...]:
    if entity == "metric" or key in _RUN_TIME_ATTRS:
        return NUMERIC_OPS
    if entity in ("param", "tag"):
        return KEY_OPS
    return STRING_OPS


def _experiment_entity(parser: Parser, prefix: str | None, key: str) -> Entity:
    entity = "attribute" if prefix is None else PREFIXES.get(prefix.lower())
    if entity == "tag":
        return "tag"
    if entity == "attribute" and key in ("name", "experiment_id", *_EXPERIMENT_TIME_ATTRS):
        return "attribute"
    raise parser.fail(
        f"unknown identifier {key if prefix is None else prefix + '.' + key!r}; "
        "use name, experiment_id, creation_time, last_update_time or tags.<key>"
    )


def parse_run_order_by(clauses: list[str] | tuple[str, ...] | None) -> list[OrderKey]:
    """Parses run order_by clauses (`metrics.acc DESC`, `start_time`); ASC by default.

    Raises:
        InvalidParameter: a clause is not `<identifier> [ASC|DESC]` for a sortable field.
    """
    result = []
    for parser, prefix, key in order_clauses(clauses):
        entity = "attribute" if prefix is None else PREFIXES.get(prefix.lower(), "dataset")
        if entity == "dataset":
            raise parser.fail(
                f"cannot order by {prefix!r}; use metrics., params., tags. or attributes. "
                "(e.g. metrics.acc DESC)"
            )
        if entity == "attribute":
            key = _RUN_ATTR_ALIASES.get(key, key)
            if key not in _RUN_ORDER_ATTRS:
                raise parser.fail(
                    f"cannot order by attribute {key!r}; use one of {', '.join(_RUN_ORDER_ATTRS)}"
                )
        result.append(OrderKey(entity, key, direction(parser)))
    return result


def parse_experiment_order_by(clauses: list[str] | tuple[str, ...] | None) -> list[OrderKey]:
    """Parses experiment order_by clauses (`name`, `creation_time DESC`); ASC by default.

    Raises:
        InvalidParameter: a clause is not `<field> [ASC|DESC]` for a sortable field.
    """
    result = []
    for parser, prefix, key in order_clauses(clauses):
        entity = "attribute" if prefix is None else PREFIXES.get(prefix.lower())
        if entity != "attribute" or key not in _EXPERIMENT_ORDER_ATTRS:
            raise parser.fail(
                f"cannot order experiments by it; use one of {', '.join(_EXPERIMENT_ORDER_ATTRS)}"
            )
        result.append(OrderKey("attribute", key, direction(parser)))
    return result
