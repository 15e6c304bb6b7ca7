"""Dialect-aware SQL around JSON, for SQLite and PostgreSQL: a list bound as one parameter
(in_bound_list), and rows aggregated into one JSON text per group (the params, tags and latest
metrics of a page of runs; the tags of a page of traces), decoded in C or sent on as they are."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from sqlalchemy import String, Text, bindparam, cast, func, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import FunctionElement


def json_object_agg(dialect: str, key: ColumnElement[Any], value: ColumnElement[Any]) -> Any:
    """An aggregate of (key, value) rows into one JSON object, as text (one row per group
    instead of one per pair, decoded by orjson in C), in `dialect`."""
    if dialect == "postgresql":
        return cast(func.json_object_agg(key, value), Text)
    return func.json_group_object(key, value)


def json_array_agg(
    dialect: str, fields: Mapping[str, ColumnElement[Any]], order_by: ColumnElement[Any]
) -> Any:
    """An aggregate of rows into one JSON array of objects with `fields`, as text, in
    `dialect`. Each value is a number or a string.
    SQLite keeps the rows' own order (its GROUP BY reads them in primary-key order);
    PostgreSQL is told `order_by`."""
    pairs: list[Any] = []
    for name, value in fields.items():
        pairs += (literal_column(f"'{name}'"), value)
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        each = func.json_build_object(*pairs)
        return cast(func.json_agg(aggregate_order_by(each, order_by)), Text)
    return func.json_group_array(func.json_object(*pairs))


def json_array_of(dialect: str, element: ColumnElement[str], order_by: ColumnElement[Any]) -> Any:
    """An aggregate of rows holding JSON texts into one JSON array, as text, in `dialect`
    (SQLite keeps the rows' own order, PostgreSQL is told `order_by`)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import aggregate_order_by

        joined = func.string_agg(element, aggregate_order_by(literal_column("','"), order_by))
    else:
        joined = func.group_concat(element, literal_column("','"))
    return literal_column("'['").concat(joined).concat(literal_column("']'"))


class _BoundValues(FunctionElement[Any]):
    """The values of the JSON array bound as one parameter, as a subquery for IN, each cast to
    the compared column's type."""

    inherit_cache = True

    def __init__(self, values: Any, sql_type: Any) -> None:
        super().__init__(values)
        self.type = sql_type


@compiles(_BoundValues, "sqlite")
def _bound_values_sqlite(element: _BoundValues, compiler: Any, **kw: Any) -> str:
    values = compiler.process(element.clauses, **kw)
    return f"(SELECT value FROM json_each({values}))"  # noqa: S608 (a bound parameter)


@compiles(_BoundValues, "postgresql")
def _bound_values_postgresql(element: _BoundValues, compiler: Any, **kw: Any) -> str:
    values = compiler.process(element.clauses, **kw)
    sql_type = compiler.dialect.type_compiler_instance.process(element.type)
    elements = f"jsonb_array_elements_text(CAST({values} AS JSONB))"
    return f"(SELECT CAST(v AS {sql_type}) FROM {elements} AS v)"  # noqa: S608 (bound)


def in_bound_list(column: ColumnElement[Any], name: str = "ids") -> ColumnElement[bool]:
    """`column` is one of the values bound as {name: bound_list(values)}: one parameter for
    any number of values, so the statement is compiled once and run on the driver (an
    expanding IN is re-rendered by SQLAlchemy on every call, which for a page of 1,000 cost
    more than the query), and a page of thousands meets no parameter limit."""
    values = _BoundValues(bindparam(name, type_=String()), column.type)
    among: ColumnElement[bool] = column.op("IN", is_comparison=True)(values)
    return among


def bound_list(values: Iterable[Any]) -> str:
    """The parameter value for in_bound_list: a JSON array."""
    return orjson.dumps(list(values)).decode()


def in_values(column: ColumnElement[Any], values: Iterable[Any]) -> ColumnElement[bool]:
    """`column` is one of `values`, bound with the statement as one JSON-array parameter:
    any number of values, under every database's parameter limit."""
    bound = bindparam(None, value=bound_list(values), type_=String())
    among: ColumnElement[bool] = column.op("IN", is_comparison=True)(
        _BoundValues(bound, column.type)
    )
    return among
