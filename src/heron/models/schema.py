"""Model schemas: the column, tensor and parameter specs of a signature, and their JSON form.

The JSON form is MLflow's (`{"type": "double", "name": "x", "required": true}`,
`{"type": "tensor", "tensor-spec": {"dtype": "float32", "shape": [-1, 3]}}`,
`{"name": "k", "default": 3, "shape": null, "type": "long"}`), so signatures written by
either side read the same on the other.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Union

import numpy as np

from heron.errors import InvalidParameter


class DataType(Enum):
    """The scalar types of a column or a parameter (MLflow's names)."""

    boolean = "boolean"
    integer = "integer"
    long = "long"
    float = "float"
    double = "double"
    string = "string"
    binary = "binary"
    datetime = "datetime"

    def to_numpy(self) -> np.dtype[Any]:
        """The NumPy dtype a column of this type holds (object for strings and bytes)."""
        return np.dtype(_NUMPY[self])


_NUMPY: dict[DataType, str] = {
    DataType.boolean: "bool",
    DataType.integer: "int32",
    DataType.long: "int64",
    DataType.float: "float32",
    DataType.double: "float64",
    DataType.string: "object",
    DataType.binary: "object",
    DataType.datetime: "datetime64[ns]",
}


@dataclass(frozen=True, slots=True)
class Array:
    """A list whose items all have one type (`{"type": "array", "items": {...}}`)."""

    items: ValueType


@dataclass(frozen=True, slots=True)
class Property:
    """One field of an `Object`."""

    name: str
    type: ValueType
    required: bool = True


@dataclass(frozen=True, slots=True)
class Object:
    """A dict with known fields (`{"type": "object", "properties": {...}}`)."""

    properties: tuple[Property, ...]


@dataclass(frozen=True, slots=True)
class Map:
    """A dict of string keys to values of one type (`{"type": "map", "values": {...}}`)."""

    values: ValueType


@dataclass(frozen=True, slots=True)
class AnyType:
    """Any value (`{"type": "any"}`)."""


ValueType = Union[DataType, Array, Object, Map, AnyType]  # noqa: UP007 (a runtime alias)


@dataclass(frozen=True, slots=True)
class ColSpec:
    """One column of a column-based schema. `name` is None for an unnamed single column."""

    type: ValueType
    name: str | None = None
    required: bool = True


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One tensor: its NumPy dtype and shape (-1 for a dimension of any size)."""

    dtype: np.dtype[Any]
    shape: tuple[int, ...]
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Schema:
    """The inputs or the outputs of a model: all column specs or all tensor specs."""

    inputs: tuple[ColSpec, ...] | tuple[TensorSpec, ...]

    def __post_init__(self) -> None:
        kinds = {type(spec) for spec in self.inputs}
        if len(kinds) > 1:
            raise InvalidParameter("A schema holds either column specs or tensor specs, not both")
        names = [spec.name for spec in self.inputs]
        if any(names) and not all(names):
            raise InvalidParameter("Either every spec in a schema has a name, or none has")
        if len(set(names)) != len(names) and any(names):
            raise InvalidParameter(f"Duplicate names in a schema: {names}")

    def __iter__(self) -> Iterator[ColSpec | TensorSpec]:
        return iter(self.inputs)

    def __len__(self) -> int:
        return len(self.inputs)

    def is_tensor_spec(self) -> bool:
        return bool(self.inputs) and isinstance(self.inputs[0], TensorSpec)

    def has_input_names(self) -> bool:
        return bool(self.inputs) and self.inputs[0].name is not None

    def input_names(self) -> list[str]:
        return [spec.name for spec in self.inputs if spec.name is not None]

    def required_input_names(self) -> list[str]:
        return [s.name for s in self.inputs if s.name and getattr(s, "required", True)]

    def to_dict(self) -> list[dict[str, Any]]:
        return [spec_to_dict(spec) for spec in self.inputs]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> Schema:
        try:
            specs = json.loads(text)
        except ValueError as exc:
            raise InvalidParameter(f"A schema is not valid JSON: {exc}") from None
        if not isinstance(specs, list):
            raise InvalidParameter("A schema must be a JSON list of specs")
        return cls(tuple(spec_from_dict(spec) for spec in specs))  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One inference parameter: its type, default and shape (None or (-1,) for a list)."""

    name: str
    type: DataType
    default: Any
    shape: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ParamSchema:
    params: tuple[ParamSpec, ...] = field(default_factory=tuple)

    def __iter__(self) -> Iterator[ParamSpec]:
        return iter(self.params)

    def to_dict(self) -> list[dict[str, Any]]:
        return [
            {
                "name": p.name,
                "default": _json_default(p.default),
                "shape": list(p.shape) if p.shape is not None else None,
                "type": p.type.value,
            }
            for p in self.params
        ]

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_json(cls, text: str) -> ParamSchema:
        try:
            specs = json.loads(text)
            return cls(
                tuple(
                    ParamSpec(
                        name=s["name"],
                        type=DataType(s["type"]),
                        default=s.get("default"),
                        shape=tuple(s["shape"]) if s.get("shape") is not None else None,
                    )
                    for s in specs
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise InvalidParameter(f"Invalid params schema {text!r}: {exc}") from None


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, list | tuple):
        return [_json_default(v) for v in value]
    return value


# JSON form of specs


def type_to_dict(value_type: ValueType) -> dict[str, Any]:
    if isinstance(value_type, DataType):
        return {"type": value_type.value}
    if isinstance(value_type, Array):
        return {"type": "array", "items": type_to_dict(value_type.items)}
    if isinstance(value_type, Object):
        return {
            "type": "object",
            "properties": {
                p.name: {**type_to_dict(p.type), "required": p.required}
                for p in value_type.properties
            },
        }
    if isinstance(value_type, Map):
        return {"type": "map", "values": type_to_dict(value_type.values)}
    return {"type": "any"}


def type_from_dict(spec: dict[str, Any]) -> ValueType:
    kind = spec.get("type")
    if kind == "array":
        return Array(type_from_dict(spec["items"]))
    if kind == "object":
        return Object(
            tuple(
                Property(name, type_from_dict(prop), bool(prop.get("required", True)))
                for name, prop in sorted(spec["properties"].items())
            )
        )
    if kind == "map":
        return Map(type_from_dict(spec["values"]))
    if kind == "any":
        return AnyType()
    try:
        return DataType(kind)
    except ValueError:
        raise InvalidParameter(f"Unknown type {kind!r} in a schema") from None


def spec_to_dict(spec: ColSpec | TensorSpec) -> dict[str, Any]:
    if isinstance(spec, TensorSpec):
        out: dict[str, Any] = {}
        if spec.name is not None:
            out["name"] = spec.name
        out["type"] = "tensor"
        dtype = "str" if spec.dtype.kind == "U" else str(spec.dtype)
        out["tensor-spec"] = {"dtype": dtype, "shape": list(spec.shape)}
        return out
    out = type_to_dict(spec.type)
    if spec.name is not None:
        out["name"] = spec.name
    out["required"] = spec.required
    return out


def spec_from_dict(spec: Any) -> ColSpec | TensorSpec:
    if not isinstance(spec, dict) or "type" not in spec:
        raise InvalidParameter(f"Invalid spec in a schema: {spec!r}")
    try:
        if spec["type"] == "tensor":
            tensor = spec["tensor-spec"]
            return TensorSpec(np.dtype(tensor["dtype"]), tuple(tensor["shape"]), spec.get("name"))
        return ColSpec(type_from_dict(spec), spec.get("name"), bool(spec.get("required", True)))
    except (KeyError, TypeError) as exc:
        raise InvalidParameter(f"Invalid spec in a schema: {spec!r} ({exc})") from None


def column_schema(specs: Sequence[ColSpec]) -> Schema:
    return Schema(tuple(specs))
