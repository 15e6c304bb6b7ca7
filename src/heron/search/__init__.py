"""MLflow's search filter and order_by grammar, parsed into a small AST. Pure; no SQL here.

`grammar` holds the tokenizer, the clause parser and the AST; one module per searched thing says
which fields its filters and order_by clauses may name."""

from heron.search.grammar import Comparison, Entity, Op, OrderKey, Value
from heron.search.tracking import (
    parse_experiment_filter,
    parse_experiment_order_by,
    parse_run_filter,
    parse_run_order_by,
)

__all__ = [
    "Comparison",
    "Entity",
    "Op",
    "OrderKey",
    "Value",
    "parse_experiment_filter",
    "parse_experiment_order_by",
    "parse_run_filter",
    "parse_run_order_by",
]
