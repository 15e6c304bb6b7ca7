"""`ModelSignature` and its inference from example inputs, predictions and parameters."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from heron.errors import InvalidParameter
from heron.models.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
    ValueType,
)


@dataclass(frozen=True, slots=True)
class ModelSignature:
    """What a model takes (`inputs`), returns (`outputs`) and accepts as `params`.

    Example:
        >>> signature = infer_signature(train_df, model.predict(train_df), params={"k": 3})
    """

    inputs: Schema | None = None
    outputs: Schema | None = None
    params: ParamSchema | None = None

    def to_dict(self) -> dict[str, str | None]:
        """The MLmodel form: each part a JSON string (or None)."""
        return {
            "inputs": self.inputs.to_json() if self.inputs is not None else None,
            "outputs": self.outputs.to_json() if self.outputs is not None else None,
            "params": self.params.to_json() if self.params else None,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ModelSignature:
        inputs, outputs, params = data.get("inputs"), data.get("outputs"), data.get("params")
        return cls(
            Schema.from_json(inputs) if inputs else None,
            Schema.from_json(outputs) if outputs else None,
            ParamSchema.from_json(params) if params else None,
        )


def infer_signature(
    model_input: Any = None, model_output: Any = None, params: Mapping[str, Any] | None = None
) -> ModelSignature:
    """A signature from an example input, the model's output for it, and parameters.

    DataFrames, dicts and lists of records give column specs (a column with missing values
    is optional); NumPy arrays give tensor specs; `params` values give their defaults.

    Raises:
        InvalidParameter: a value whose type no schema can describe.
    """
    inputs = infer_schema(model_input) if model_input is not None else None
    outputs = infer_schema(model_output) if model_output is not None else None
    return ModelSignature(inputs, outputs, infer_param_schema(params) if params else None)


def infer_schema(data: Any) -> Schema:
    """The schema of one value (see `infer_signature`)."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return Schema(tuple(_column(data[name], str(name)) for name in data.columns))
    if isinstance(data, pd.Series):
        return Schema((_column(data, None if data.name is None else str(data.name)),))
    if isinstance(data, np.ndarray):
        return Schema((_tensor(data, None),))
    if isinstance(data, Mapping):
        if data and all(isinstance(v, np.ndarray) for v in data.values()):
            return Schema(tuple(_tensor(v, str(k)) for k, v in data.items()))
        return Schema(
            tuple(ColSpec(_value_type(v, str(k)), str(k), v is not None) for k, v in data.items())
        )
    if isinstance(data, list | tuple):
        if data and all(isinstance(row, Mapping) for row in data):
            return _records(data)
        if not data:
            raise InvalidParameter("Cannot infer a schema from an empty list")
        return Schema((ColSpec(_common_type(list(data), "the list")),))
    return Schema((ColSpec(_value_type(data, "the value")),))


def infer_param_schema(params: Mapping[str, Any]) -> ParamSchema:
    """Each parameter's type and shape, with its value as the default."""
    specs = []
    for name, value in params.items():
        if isinstance(value, list | tuple | np.ndarray):
            items = list(value)
            if not items or any(isinstance(v, list | tuple | dict) for v in items):
                raise InvalidParameter(f"Parameter {name!r} must be a scalar or a flat list")
            specs.append(ParamSpec(name, _scalar_type(items[0], name), items, (-1,)))
        elif value is None or isinstance(value, dict):
            raise InvalidParameter(
                f"Parameter {name!r} must be a scalar or a list, got {type(value).__name__}"
            )
        else:
            default = value.item() if isinstance(value, np.generic) else value
            specs.append(ParamSpec(name, _scalar_type(value, name), default))
    return ParamSchema(tuple(specs))


def _records(rows: list[Any] | tuple[Any, ...]) -> Schema:
    names: dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(str(k) for k in row))
    specs = []
    for name in names:
        values = [row.get(name) for row in rows]
        present = [v for v in values if v is not None]
        if not present:
            raise InvalidParameter(f"Cannot infer the type of field {name!r}: it is always None")
        specs.append(ColSpec(_common_type(present, name), name, len(present) == len(values)))
    return Schema(tuple(specs))


def _tensor(array: np.ndarray[Any, Any], name: str | None) -> TensorSpec:
    dtype = array.dtype
    if dtype.kind == "U":
        dtype = np.dtype("str")
    shape = (-1, *array.shape[1:]) if array.ndim else ()
    return TensorSpec(dtype, shape, name)


_KIND_TYPES = {"b": DataType.boolean, "M": DataType.datetime}


def _column(series: Any, name: str | None) -> ColSpec:
    """A pandas column's spec: from its dtype, or from its values when they are objects."""
    dtype = series.dtype
    missing = bool(series.isna().any())
    kind = getattr(dtype, "kind", "O")
    if kind in ("i", "u", "f"):
        return ColSpec(_numeric(np.dtype(dtype), name), name, not missing)
    if kind in _KIND_TYPES:
        return ColSpec(_KIND_TYPES[kind], name, not missing)
    values = [v for v in series.tolist() if not _is_missing(v)]
    if not values:
        raise InvalidParameter(f"Cannot infer the type of column {name!r}: it has no values")
    return ColSpec(_common_type(values, name or "the column"), name, not missing)


def _numeric(dtype: np.dtype[Any], name: str | None) -> DataType:
    if dtype.kind == "f":
        return DataType.float if dtype.itemsize <= 4 else DataType.double
    if dtype.kind == "i" and dtype.itemsize <= 4:
        return DataType.integer
    if dtype.kind in ("i", "u"):
        return DataType.long
    raise InvalidParameter(f"Unsupported dtype {dtype} in {name!r}")


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    return isinstance(value, float) and value != value


def _scalar_type(value: Any, name: str) -> DataType:
    if isinstance(value, bool | np.bool_):
        return DataType.boolean
    if isinstance(value, np.generic) and not isinstance(value, np.str_ | np.bytes_):
        return _numeric(value.dtype, name)
    if isinstance(value, int):
        return DataType.long
    if isinstance(value, float):
        return DataType.double
    if isinstance(value, str):
        return DataType.string
    if isinstance(value, bytes | bytearray):
        return DataType.binary
    if isinstance(value, dt.datetime | dt.date | np.datetime64):
        return DataType.datetime
    raise InvalidParameter(f"Cannot infer a type for {name!r} from a {type(value).__name__}")


def _value_type(value: Any, name: str) -> ValueType:
    if isinstance(value, Mapping):
        return Object(
            tuple(
                Property(str(k), _value_type(v, f"{name}.{k}"), True)
                for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))
                if v is not None
            )
        )
    if isinstance(value, list | tuple | np.ndarray):
        items = [v for v in value if not _is_missing(v)]
        return Array(_common_type(items, name) if items else AnyType())
    return _scalar_type(value, name)


def _common_type(values: list[Any], name: str) -> ValueType:
    """One type for several values: the same type, or an object with optional fields."""
    types = [_value_type(v, name) for v in values]
    first = types[0]
    if all(t == first for t in types):
        return first
    if all(isinstance(t, Object) for t in types):
        return _merge_objects([t for t in types if isinstance(t, Object)])
    numeric = {DataType.integer, DataType.long, DataType.float, DataType.double}
    if all(t in numeric for t in types):
        return DataType.double
    if all(isinstance(t, Array) for t in types):
        return Array(_common_type([v for value in values for v in value], name))
    raise InvalidParameter(f"{name!r} holds values of different types: {sorted(map(str, types))}")


def _merge_objects(objects: list[Object]) -> Object:
    fields: dict[str, list[ValueType]] = {}
    for obj in objects:
        for prop in obj.properties:
            fields.setdefault(prop.name, []).append(prop.type)
    merged = []
    for name, types in sorted(fields.items()):
        if any(t != types[0] for t in types):
            raise InvalidParameter(f"Field {name!r} holds values of different types")
        merged.append(Property(name, types[0], len(types) == len(objects)))
    return Object(tuple(merged))
