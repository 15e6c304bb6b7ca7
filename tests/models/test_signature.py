"""Signature inference from examples, and the MLflow JSON form of schemas."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from heron.errors import InvalidParameter
from heron.models.schema import ColSpec, DataType, ParamSchema, Schema, TensorSpec
from heron.models.signature import ModelSignature, infer_signature

# The JSON MLflow 3.17.2's infer_signature writes for the same values (recorded from it).
CASES: list[tuple[str, Any, list[dict[str, Any]]]] = [
    (
        "frame",
        pd.DataFrame(
            {
                "a": [1.0, None],
                "b": ["x", None],
                "c": [1, 2],
                "d": [[1, 2], [3]],
                "e": [{"x": 1}, {"x": 2, "y": "s"}],
                "f": pd.to_datetime(["2020-01-01", "2020-01-02"]),
                "g": [True, False],
                "h": np.array([1, 2], dtype=np.int32),
                "i": np.array([1, 2], dtype=np.float32),
                "j": [b"a", b"b"],
            }
        ),
        [
            {"type": "double", "name": "a", "required": False},
            {"type": "string", "name": "b", "required": False},
            {"type": "long", "name": "c", "required": True},
            {"type": "array", "items": {"type": "long"}, "name": "d", "required": True},
            {
                "type": "object",
                "properties": {
                    "x": {"type": "long", "required": True},
                    "y": {"type": "string", "required": False},
                },
                "name": "e",
                "required": True,
            },
            {"type": "datetime", "name": "f", "required": True},
            {"type": "boolean", "name": "g", "required": True},
            {"type": "integer", "name": "h", "required": True},
            {"type": "float", "name": "i", "required": True},
            {"type": "binary", "name": "j", "required": True},
        ],
    ),
    (
        "array-1d",
        np.array([1, 2, 3]),
        [{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}],
    ),
    (
        "array-3d",
        np.zeros((2, 3, 4), dtype=np.uint8),
        [{"type": "tensor", "tensor-spec": {"dtype": "uint8", "shape": [-1, 3, 4]}}],
    ),
    (
        "dict-of-arrays",
        {"x": np.zeros((2, 3)), "y": np.array(["a", "b"])},
        [
            {"name": "x", "type": "tensor", "tensor-spec": {"dtype": "float64", "shape": [-1, 3]}},
            {"name": "y", "type": "tensor", "tensor-spec": {"dtype": "str", "shape": [-1]}},
        ],
    ),
    (
        "json-object",
        {"a": "x", "b": [1, 2], "c": {"d": 1.5}},
        [
            {"type": "string", "name": "a", "required": True},
            {"type": "array", "items": {"type": "long"}, "name": "b", "required": True},
            {
                "type": "object",
                "properties": {"d": {"type": "double", "required": True}},
                "name": "c",
                "required": True,
            },
        ],
    ),
    (
        "records",
        [{"a": 1, "b": "x"}, {"a": 2}],
        [
            {"type": "long", "name": "a", "required": True},
            {"type": "string", "name": "b", "required": False},
        ],
    ),
    ("strings", ["a", "b"], [{"type": "string", "required": True}]),
    ("string", "hello", [{"type": "string", "required": True}]),
    (
        "series",
        pd.Series([1.0, 2.0], name="s"),
        [{"type": "double", "name": "s", "required": True}],
    ),
    (
        "chat",
        {"messages": [{"role": "user", "content": "hi"}]},
        [
            {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "content": {"type": "string", "required": True},
                        "role": {"type": "string", "required": True},
                    },
                },
                "name": "messages",
                "required": True,
            }
        ],
    ),
]


@pytest.mark.parametrize(("value", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_inferred_schema_is_what_mlflow_writes(value: Any, expected: list[dict[str, Any]]) -> None:
    signature = infer_signature(value)
    assert signature.inputs is not None
    assert json.loads(signature.inputs.to_json()) == expected
    assert Schema.from_json(signature.inputs.to_json()) == signature.inputs


def test_params_schema_matches_mlflow() -> None:
    params = {
        "k": 3,
        "s": "x",
        "f": 1.5,
        "b": True,
        "l": [1, 2],
        "np": np.float32(1.0),
        "dt": dt.datetime(2020, 1, 1),
    }
    signature = infer_signature(np.zeros((2, 2)), params=params)
    assert signature.params is not None
    assert json.loads(signature.params.to_json()) == [
        {"name": "k", "default": 3, "shape": None, "type": "long"},
        {"name": "s", "default": "x", "shape": None, "type": "string"},
        {"name": "f", "default": 1.5, "shape": None, "type": "double"},
        {"name": "b", "default": True, "shape": None, "type": "boolean"},
        {"name": "l", "default": [1, 2], "shape": [-1], "type": "long"},
        {"name": "np", "default": 1.0, "shape": None, "type": "float"},
        {"name": "dt", "default": "2020-01-01T00:00:00", "shape": None, "type": "datetime"},
    ]


@pytest.mark.parametrize("value", [None, {"a": 1}], ids=["none", "dict"])
def test_param_without_a_type_is_refused(value: Any) -> None:
    with pytest.raises(InvalidParameter, match="'p'"):
        infer_signature("x", params={"p": value})


def test_signature_round_trips_through_the_mlmodel_form() -> None:
    signature = infer_signature(
        pd.DataFrame({"x": [1.0]}), np.array([1]), params={"temperature": 0.5}
    )
    assert ModelSignature.from_dict(signature.to_dict()) == signature


def test_column_of_mixed_types_is_refused_with_its_name() -> None:
    with pytest.raises(InvalidParameter, match="'a'"):
        infer_signature(pd.DataFrame({"a": [1, "x"]}))


def test_schema_cannot_mix_columns_and_tensors() -> None:
    with pytest.raises(InvalidParameter, match="not both"):
        Schema((ColSpec(DataType.long, "a"), TensorSpec(np.dtype("float32"), (-1,), "b")))


def test_malformed_schema_json_is_invalid_parameter() -> None:
    for text in ["not json", "{}", '[{"type": "nope"}]', '[{"no": "type"}]']:
        with pytest.raises(InvalidParameter):
            Schema.from_json(text)
    with pytest.raises(InvalidParameter):
        ParamSchema.from_json('[{"name": "x"}]')


scalar_types = st.sampled_from(list(DataType))
names = st.text(st.characters(categories=["L", "N"]), min_size=1, max_size=8)


@given(
    st.lists(
        st.tuples(names, scalar_types, st.booleans()),
        min_size=1,
        max_size=6,
        unique_by=lambda t: t[0],
    )
)
def test_column_schemas_round_trip_through_json(specs: list[tuple[str, DataType, bool]]) -> None:
    schema = Schema(tuple(ColSpec(t, n, r) for n, t, r in specs))
    assert Schema.from_json(schema.to_json()) == schema


@given(
    st.sampled_from(["float32", "float64", "int8", "int64", "uint8", "bool"]),
    st.lists(st.integers(1, 5), max_size=3),
)
def test_tensor_schemas_round_trip_through_json(dtype: str, dims: list[int]) -> None:
    schema = Schema((TensorSpec(np.dtype(dtype), (-1, *dims)),))
    assert Schema.from_json(schema.to_json()) == schema
