"""MLflow's search filter and order_by grammar, parsed into a small AST. Pure; no SQL here.

Filters are clauses joined by AND (MLflow has no OR):

    metrics.acc > 0.8 AND params.lr = '0.1' AND tags.`my tag` LIKE 'x%'
    attributes.status IN ('FINISHED', 'FAILED') AND datasets.name = 'train'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Entity = Literal["metric", "param", "tag", "attribute", "dataset"]
Op = Literal[
    "=", "!=", "<", ">", "<=", ">=", "LIKE", "ILIKE", "IN", "NOT IN", "IS NULL", "IS NOT NULL"
]
Value = str | float | int | tuple[str, ...] | None


@dataclass(frozen=True, slots=True)
class Comparison:
    """One clause: `<entity>.<key> <op> <value>`.

    `value` is a float for metrics, an int for time attributes (ms since epoch), a tuple of
    strings for IN / NOT IN, None for IS NULL / IS NOT NULL, otherwise a string."""

    entity: Entity
    key: str
    op: Op
    value: Value


@dataclass(frozen=True, slots=True)
class OrderKey:
    entity: Entity
    key: str
    ascending: bool = True


def parse_run_filter(text: str | None) -> list[Comparison]:
    raise NotImplementedError  # filled in with the grammar


def parse_run_order_by(clauses: list[str] | tuple[str, ...] | None) -> list[OrderKey]:
    raise NotImplementedError


def parse_experiment_filter(text: str | None) -> list[Comparison]:
    raise NotImplementedError


def parse_experiment_order_by(clauses: list[str] | tuple[str, ...] | None) -> list[OrderKey]:
    raise NotImplementedError
