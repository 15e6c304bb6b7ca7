"""Signature enforcement at predict time: inputs converted only when it is safe, clear errors.

Every error is `InvalidParameter` naming the column, tensor or parameter at fault and what to
change, raised before the model sees the data (never a stack trace from inside pandas).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from heron.errors import InvalidParameter
from heron.models.schema import (
    AnyType,
    Array,
    ColSpec,
    DataType,
    Map,
    Object,
    ParamSchema,
    ParamSpec,
    Schema,
    TensorSpec,
    ValueType,
)

# dtype kinds and item sizes each column type accepts as is, or converts without loss.
_EXACT: dict[DataType, str] = {
    DataType.double: "float64",
    DataType.float: "float32",
    DataType.long: "int64",
    DataType.integer: "int32",
    DataType.boolean: "bool",
}
_EXACT_DTYPES: dict[ValueType, np.dtype[Any]] = {t: np.dtype(d) for t, d in _EXACT.items()}
_SAFE: dict[DataType, frozenset[str]] = {
    # MLflow compat: integer columns go to double (a column of ints is the common case of
    # a feature the model was trained on as floats).
    DataType.double: frozenset(
        {"float16", "float32", "int8", "int16", "int32", "int64", "uint8", "uint16"}
        | {"uint32", "uint64"}
    ),
    DataType.float: frozenset(["float16", "int8", "int16", "uint8", "uint16"]),
    DataType.long: frozenset(["int8", "int16", "int32", "uint8", "uint16", "uint32"]),
    DataType.integer: frozenset(["int8", "int16", "uint8", "uint16"]),
    DataType.boolean: frozenset(),
}
_INFERRED_OK: dict[DataType, frozenset[str]] = {
    DataType.string: frozenset({"string", "empty"}),
    DataType.binary: frozenset({"bytes", "empty"}),
    DataType.datetime: frozenset({"datetime", "datetime64", "date", "empty"}),
}


def enforce_input(data: Any, schema: Schema) -> Any:
    """`data` checked against `schema` and converted where that is safe.

    Raises:
        InvalidParameter: a missing required column or tensor, or a type that cannot be
            converted without losing information.
    """
    if schema.is_tensor_spec():
        return _enforce_tensors(data, schema)
    try:
        frame = to_frame(data, schema)
    except (ValueError, TypeError) as exc:  # e.g. columns of different lengths
        raise InvalidParameter(f"The input cannot be read as a table: {exc}") from None
    return enforce_columns(frame, schema)


def to_frame(data: Any, schema: Schema) -> Any:
    """Column-based input as a DataFrame: dicts, records, lists, arrays and strings."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, pd.Series):
        return data.to_frame()
    if isinstance(data, Mapping):
        nested = {spec.name for spec in schema.inputs if not isinstance(spec.type, DataType)}  # type: ignore[union-attr]
        if all(k in nested or not _list_like(v) for k, v in data.items()):
            return pd.DataFrame([data])
        return pd.DataFrame(dict(data))
    if isinstance(data, list | tuple) and data and all(isinstance(r, Mapping) for r in data):
        return pd.DataFrame(list(data))
    if isinstance(data, np.ndarray) and data.ndim == 2:
        names = schema.input_names() or None
        return pd.DataFrame(data, columns=names if names and len(names) == data.shape[1] else None)
    if isinstance(data, list | tuple | np.ndarray):
        name = schema.inputs[0].name if schema.has_input_names() else 0
        return pd.DataFrame({name: list(data)})
    if isinstance(data, str | bytes | int | float | bool):
        name = schema.inputs[0].name if schema.has_input_names() else 0
        return pd.DataFrame({name: [data]})
    raise InvalidParameter(
        f"Cannot use a {type(data).__name__} as model input: pass a pandas DataFrame, "
        "a dict, a list of records or a NumPy array"
    )


def _list_like(value: Any) -> bool:
    return isinstance(value, list | tuple | np.ndarray)


def enforce_columns(frame: Any, schema: Schema) -> Any:
    """The frame's columns checked by name (or by position for an unnamed schema)."""
    specs: list[ColSpec] = list(schema.inputs)  # type: ignore[arg-type]
    columns = frame.columns.tolist()
    if schema.has_input_names():
        names = [spec.name for spec in specs]
        if columns != names:
            present = set(columns)
            missing = [s.name for s in specs if s.required and s.name not in present]
            if missing:
                raise InvalidParameter(
                    f"Model is missing inputs {missing}: the input has columns {columns}"
                )
            specs = [s for s in specs if s.name in present]
            wanted = [s.name for s in specs]
            if columns != wanted:
                frame = frame[wanted]
    elif len(columns) < len(specs):
        raise InvalidParameter(
            f"The model expects {len(specs)} input columns, the input has {len(columns)}"
        )
    converted: dict[Any, Any] = {}
    for position, (spec, dtype) in enumerate(zip(specs, _dtypes(frame), strict=False)):
        if dtype == _EXACT_DTYPES.get(spec.type):
            continue  # the common case: already the right type
        column = frame.iloc[:, position]
        new = _convert_column(column, spec, spec.name or f"#{position}")
        if new is not column:
            converted[frame.columns[position]] = new
    if converted:
        frame = frame.assign(**{str(k): v for k, v in converted.items()})
    return frame


def _dtypes(frame: Any) -> list[Any]:
    """The frame's column dtypes. `DataFrame.dtypes` builds a Series (tens of microseconds,
    most of a small predict's overhead); pandas' block manager has them as an array."""
    get_dtypes = getattr(getattr(frame, "_mgr", None), "get_dtypes", None)
    if get_dtypes is not None:
        try:
            return list(get_dtypes())
        except Exception:  # noqa: S110 - a pandas without it: the public way below
            pass
    return list(frame.dtypes)


def _convert_column(column: Any, spec: ColSpec, name: str) -> Any:
    import pandas as pd

    expected = spec.type
    dtype = column.dtype
    if isinstance(expected, DataType) and expected in _EXACT:
        if str(dtype) in _SAFE[expected]:
            return column.astype(_EXACT[expected])
        hint = ""
        if expected in (DataType.long, DataType.integer) and getattr(dtype, "kind", "") == "f":
            hint = (
                " (an integer column with missing values arrives as floats: declare the "
                "column as double in the signature)"
            )
        raise InvalidParameter(
            f"Incompatible input types for column {name!r}: cannot safely convert "
            f"{_describe(column)} to {expected.value}{hint}"
        )
    if spec.required and column.isna().any():
        raise InvalidParameter(f"Input column {name!r} is required but has missing values")
    if isinstance(expected, DataType):
        inferred = pd.api.types.infer_dtype(column, skipna=True)
        if inferred not in _INFERRED_OK[expected]:
            raise InvalidParameter(
                f"Incompatible input types for column {name!r}: cannot safely convert "
                f"{_describe(column)} to {expected.value}"
            )
        if expected is DataType.datetime and getattr(dtype, "kind", "") != "M":
            return pd.to_datetime(column)
        return column
    for value in column.tolist():
        if value is not None:
            check_value(value, expected, name)
    return column


def _describe(column: Any) -> str:
    import pandas as pd

    if getattr(column.dtype, "kind", "O") == "O" or str(column.dtype) in ("str", "string"):
        return str(pd.api.types.infer_dtype(column, skipna=True))
    return str(column.dtype)


def check_value(value: Any, expected: ValueType, name: str) -> None:
    """One nested value (a field of an object, an item of an array) against its type."""
    if isinstance(expected, AnyType):
        return
    if isinstance(expected, Array):
        if not _list_like(value):
            raise InvalidParameter(f"{name!r} must be a list, got {type(value).__name__}")
        for i, item in enumerate(value):
            check_value(item, expected.items, f"{name}[{i}]")
    elif isinstance(expected, Object):
        if not isinstance(value, Mapping):
            raise InvalidParameter(f"{name!r} must be an object, got {type(value).__name__}")
        for prop in expected.properties:
            if prop.name in value and value[prop.name] is not None:
                check_value(value[prop.name], prop.type, f"{name}.{prop.name}")
            elif prop.required:
                raise InvalidParameter(f"{name!r} is missing the required field {prop.name!r}")
    elif isinstance(expected, Map):
        if not isinstance(value, Mapping):
            raise InvalidParameter(f"{name!r} must be a map, got {type(value).__name__}")
        for key, item in value.items():
            check_value(item, expected.values, f"{name}.{key}")
    else:
        convert_scalar(value, expected, name)


def convert_scalar(value: Any, expected: DataType, name: str) -> Any:
    """A scalar as `expected`, when that loses nothing; else InvalidParameter."""
    if isinstance(value, np.generic):
        value = value.item()
    ok: bool
    if expected is DataType.boolean:
        ok = isinstance(value, bool)
    elif expected in (DataType.integer, DataType.long):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected in (DataType.float, DataType.double):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif expected is DataType.string:
        ok = isinstance(value, str)
    elif expected is DataType.binary:
        ok = isinstance(value, bytes | bytearray)
    else:
        ok = isinstance(value, dt.date | np.datetime64 | str)
    if not ok:
        raise InvalidParameter(
            f"{name!r} must be a {expected.value}, got {value!r} ({type(value).__name__})"
        )
    return value


def _enforce_tensors(data: Any, schema: Schema) -> Any:
    import pandas as pd

    specs: list[TensorSpec] = list(schema.inputs)  # type: ignore[arg-type]
    if (schema.has_input_names() and len(specs) > 1) or isinstance(data, Mapping):
        if not isinstance(data, Mapping | pd.DataFrame):
            raise InvalidParameter(
                f"The model expects named tensors {schema.input_names()}: pass a dict of arrays"
            )
        out = {}
        for spec in specs:
            if spec.name not in data:
                raise InvalidParameter(f"Model is missing the input tensor {spec.name!r}")
            out[spec.name] = _tensor(data[spec.name], spec)
        return out
    if isinstance(data, pd.DataFrame):
        data = data.to_numpy()
    return _tensor(data, specs[0])


def _tensor(value: Any, spec: TensorSpec) -> np.ndarray[Any, Any]:
    name = spec.name or "input"
    if not isinstance(value, np.ndarray):
        try:
            value = np.asarray(value)
        except ValueError as exc:
            raise InvalidParameter(f"Tensor {name!r} is not a regular array: {exc}") from None
    if len(value.shape) != len(spec.shape) or any(
        want not in (-1, got) for want, got in zip(spec.shape, value.shape, strict=True)
    ):
        raise InvalidParameter(
            f"Tensor {name!r} has shape {tuple(value.shape)}, the model expects {spec.shape} "
            "(-1: any size)"
        )
    array: np.ndarray[Any, Any] = value
    if array.dtype == spec.dtype or (array.dtype.kind == spec.dtype.kind == "U"):
        return array
    if np.can_cast(array.dtype, spec.dtype, "safe"):
        return array.astype(spec.dtype)
    raise InvalidParameter(
        f"Tensor {name!r} has dtype {value.dtype}, which cannot be safely converted to {spec.dtype}"
    )


def enforce_params(
    params: Mapping[str, Any] | None, schema: ParamSchema | None, has_signature: bool
) -> dict[str, Any] | None:
    """The params to pass to the model: checked against the schema, defaults filled in.

    Without a params schema, a model with a signature gets no params (with a warning, as
    MLflow does); a model without any signature gets them as given."""
    if schema is None:
        if params and has_signature:
            warnings.warn(
                f"Params {sorted(params)} are ignored: the model's signature has no params "
                "schema (log the model with a signature that includes params)",
                UserWarning,
                stacklevel=3,
            )
            return None
        return dict(params) if params else None
    given = dict(params or {})
    out: dict[str, Any] = {}
    for spec in schema:
        out[spec.name] = (
            _param_value(given.pop(spec.name), spec) if spec.name in given else spec.default
        )
    if given:
        warnings.warn(
            f"Params {sorted(given)} are not in the model's params schema and are ignored",
            UserWarning,
            stacklevel=3,
        )
    return out


def _param_value(value: Any, spec: ParamSpec) -> Any:
    if spec.shape is None:
        if _list_like(value):
            raise InvalidParameter(f"Parameter {spec.name!r} must be a single {spec.type.value}")
        return convert_scalar(value, spec.type, spec.name)
    if not _list_like(value):
        raise InvalidParameter(f"Parameter {spec.name!r} must be a list of {spec.type.value}")
    return [convert_scalar(v, spec.type, f"{spec.name}[{i}]") for i, v in enumerate(value)]
