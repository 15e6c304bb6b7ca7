"""The logged-model search: which fields its filter names, its typed order_by and dataset scopes.

    metrics.accuracy > 0.9 AND params.lr = '0.1' AND tags.team = 'x' AND name LIKE 'clf%'
    status = 'READY' AND creation_timestamp > 1700000000000

Bare names are attributes (name, model_id, model_type, status, source_run_id,
creation_timestamp, last_updated_timestamp; creation_time and last_updated_time are aliases).
Unlike the run search, order_by is a list of typed clauses ({field_name, ascending,
dataset_name, dataset_digest}), and the search may be scoped to datasets: metric clauses then
only see metrics computed on one of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from heron.errors import InvalidParameter
from heron.search.grammar import (
    NUMERIC_OPS,
    PREFIXES,
    STRING_OPS,
    Comparison,
    Entity,
    Number,
    Op,
    Parser,
    clauses,
    typed,
)

STRING_ATTRIBUTES = ("name", "model_id", "model_type", "status", "source_run_id")
TIME_ATTRIBUTES = ("creation_timestamp", "last_updated_timestamp")
_ALIASES = {"creation_time": "creation_timestamp", "last_updated_time": "last_updated_timestamp"}
_STATUS_PREFIX = "LOGGED_MODEL_"


@dataclass(frozen=True, slots=True)
class DatasetScope:
    """Metrics computed on this dataset (any digest when `digest` is None)."""

    name: str
    digest: str | None = None


@dataclass(frozen=True, slots=True)
class ModelOrderKey:
    """An attribute, or the latest value of a metric (on one dataset when it names one)."""

    entity: Literal["attribute", "metric"]
    key: str
    ascending: bool = True
    dataset: DatasetScope | None = None


def parse_logged_model_filter(text: str | None) -> list[Comparison]:
    """Parses a logged-model filter into clauses.

    Raises:
        InvalidParameter: the text is not a valid filter; the message says where and why.
    """
    result = []
    for parser, prefix, key, op, value in clauses(text, "filter"):
        entity = _entity(parser, prefix, key)
        if entity == "attribute":
            key = _ALIASES.get(key, key)
        numeric = entity == "metric" or key in TIME_ATTRIBUTES
        if not numeric and isinstance(value, Number):
            # MLflow compat: an unquoted number compared with a param or tag is its text.
            value = str(value)
        ops: tuple[Op, ...] = NUMERIC_OPS if numeric else STRING_OPS
        clause = typed(parser, entity, key, op, value, ops)
        if entity == "attribute" and key == "status":
            clause = Comparison(entity, key, clause.op, _statuses(clause.value))
        result.append(clause)
    return result


def _entity(parser: Parser, prefix: str | None, key: str) -> Entity:
    entity = "attribute" if prefix is None else PREFIXES.get(prefix.lower())
    if entity in ("metric", "param", "tag"):
        return entity
    if entity == "attribute":
        if _ALIASES.get(key, key) in (*STRING_ATTRIBUTES, *TIME_ATTRIBUTES):
            return "attribute"
        allowed = ", ".join((*STRING_ATTRIBUTES, *TIME_ATTRIBUTES))
        raise parser.fail(f"unknown logged model attribute {key!r}; use one of {allowed}")
    raise parser.fail(
        f"unknown prefix {prefix!r}; use metrics., params., tags. or attributes. "
        "(e.g. metrics.accuracy)"
    )


def _statuses(value: object) -> str | tuple[str, ...]:
    """MLflow compat: a status is written READY or LOGGED_MODEL_READY; both mean READY."""
    if isinstance(value, tuple):
        return tuple(v.removeprefix(_STATUS_PREFIX) for v in value)
    return str(value).removeprefix(_STATUS_PREFIX)


def parse_logged_model_order_by(items: Sequence[Mapping[str, Any]] | None) -> list[ModelOrderKey]:
    """Parses typed order_by clauses: `{"field_name": "metrics.acc", "ascending": False,
    "dataset_name": "eval", "dataset_digest": "abc"}` or `{"field_name": "name"}`.

    Raises:
        InvalidParameter: a clause names no sortable field, or a dataset on a non-metric.
    """
    result = []
    for clause in items or ():
        if not isinstance(clause, Mapping):
            raise InvalidParameter(f"order_by clauses must be objects, got {clause!r}")
        field_name = clause.get("field_name")
        if not isinstance(field_name, str) or not field_name.strip():
            raise InvalidParameter("field_name in an order_by clause must be a non-empty string")
        ascending = clause.get("ascending", True)
        if ascending is None:
            ascending = True
        if not isinstance(ascending, bool):
            raise InvalidParameter(
                f"ascending in the order_by clause on {field_name!r} must be true or false"
            )
        dataset = _dataset(clause.get("dataset_name"), clause.get("dataset_digest"), "order_by")
        prefix, dot, key = field_name.strip().partition(".")
        if dot:
            if prefix != "metrics" or not key.strip("`"):
                raise InvalidParameter(
                    f"Cannot order logged models by {field_name!r}; use metrics.<key> or one "
                    f"of {', '.join((*STRING_ATTRIBUTES, *TIME_ATTRIBUTES))}"
                )
            result.append(ModelOrderKey("metric", key.strip("`"), ascending, dataset))
            continue
        name = _ALIASES.get(prefix, prefix)
        if name not in (*STRING_ATTRIBUTES, *TIME_ATTRIBUTES):
            raise InvalidParameter(
                f"Cannot order logged models by {field_name!r}; use metrics.<key> or one "
                f"of {', '.join((*STRING_ATTRIBUTES, *TIME_ATTRIBUTES))}"
            )
        if dataset is not None:
            raise InvalidParameter(
                f"dataset_name in an order_by clause applies to metrics only, not {field_name!r}"
            )
        result.append(ModelOrderKey("attribute", name, ascending))
    return result


def parse_dataset_scopes(datasets: Sequence[Mapping[str, Any]] | None) -> list[DatasetScope]:
    """Parses `[{"dataset_name": "eval", "dataset_digest": "abc"}]` (digest optional).

    Raises:
        InvalidParameter: a scope without a dataset_name.
    """
    scopes = []
    for item in datasets or ():
        if not isinstance(item, Mapping):
            raise InvalidParameter(f"datasets must be a list of objects, got {item!r}")
        scope = _dataset(item.get("dataset_name"), item.get("dataset_digest"), "datasets")
        if scope is None:
            raise InvalidParameter("dataset_name in the datasets clause must be specified")
        scopes.append(scope)
    return scopes


def _dataset(name: object, digest: object, where: str) -> DatasetScope | None:
    if name is not None and not isinstance(name, str):
        raise InvalidParameter(f"dataset_name in {where} must be a string, got {name!r}")
    if digest is not None and not isinstance(digest, str):
        raise InvalidParameter(f"dataset_digest in {where} must be a string, got {digest!r}")
    if not name:
        if digest:
            raise InvalidParameter(
                f"dataset_digest in {where} can only be given together with dataset_name"
            )
        return None
    return DatasetScope(name, digest or None)
