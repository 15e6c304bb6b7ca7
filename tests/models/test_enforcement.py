"""Signature enforcement at predict: safe conversions pass, anything else names the culprit."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from heron.errors import InvalidParameter
from heron.models.enforcement import enforce_input, enforce_params
from heron.models.schema import (
    Array,
    ColSpec,
    DataType,
    Object,
    ParamSchema,
    ParamSpec,
    Property,
    Schema,
    TensorSpec,
)

COLUMNS = Schema(
    (
        ColSpec(DataType.double, "x"),
        ColSpec(DataType.long, "n"),
        ColSpec(DataType.string, "s"),
        ColSpec(DataType.string, "note", required=False),
    )
)


def frame(**overrides: Any) -> pd.DataFrame:
    data: dict[str, Any] = {"x": [1.5], "n": [2], "s": ["a"]}
    data.update(overrides)
    return pd.DataFrame(data)


def test_matching_frame_passes_unchanged() -> None:
    data = frame()
    assert enforce_input(data, COLUMNS) is data


def test_missing_required_column_is_named() -> None:
    with pytest.raises(InvalidParameter, match=r"missing inputs \['n'\]"):
        enforce_input(frame().drop(columns=["n"]), COLUMNS)


def test_optional_column_may_be_absent_and_extra_columns_are_dropped() -> None:
    out = enforce_input(frame(extra=[0]), COLUMNS)
    assert out.columns.tolist() == ["x", "n", "s"]


def test_columns_are_reordered_by_name() -> None:
    out = enforce_input(frame()[["s", "n", "x"]], COLUMNS)
    assert out.columns.tolist() == ["x", "n", "s"]


@pytest.mark.parametrize(
    ("column", "values", "dtype"),
    [
        ("x", [1], "float64"),
        ("x", np.array([1.0], dtype=np.float32), "float64"),
        ("n", np.array([1], dtype=np.int32), "int64"),
    ],
    ids=["int-to-double", "float32-to-double", "int32-to-long"],
)
def test_safe_conversions_are_applied(column: str, values: Any, dtype: str) -> None:
    out = enforce_input(frame(**{column: values}), COLUMNS)
    assert str(out[column].dtype) == dtype


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [
        ("x", ["text"], "column 'x'.*string to double"),
        ("n", [1.5], "column 'n'.*float64 to long.*declare the column as double"),
        ("s", [3], "column 's'.*int64 to string"),
    ],
    ids=["string-as-double", "float-as-long", "int-as-string"],
)
def test_unsafe_conversions_are_refused(column: str, values: Any, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        enforce_input(frame(**{column: values}), COLUMNS)


def test_required_string_column_with_missing_value_is_refused() -> None:
    with pytest.raises(InvalidParameter, match="'s' is required"):
        enforce_input(frame(s=[None]), COLUMNS)


def test_dicts_and_records_become_frames() -> None:
    row = {"x": 1.0, "n": 1, "s": "a"}
    assert enforce_input(row, COLUMNS).shape == (1, 3)
    assert enforce_input([row, row], COLUMNS).shape == (2, 3)
    assert enforce_input({"x": [1.0, 2.0], "n": [1, 2], "s": ["a", "b"]}, COLUMNS).shape == (2, 3)


def test_nested_values_are_checked_field_by_field() -> None:
    schema = Schema(
        (
            ColSpec(
                Array(
                    Object(
                        (Property("role", DataType.string), Property("content", DataType.string))
                    )
                ),
                "messages",
            ),
        )
    )
    good = {"messages": [{"role": "user", "content": "hi"}]}
    assert enforce_input(good, schema).shape == (1, 1)
    with pytest.raises(InvalidParameter, match=r"messages\[0\].*'content'"):
        enforce_input({"messages": [{"role": "user"}]}, schema)
    with pytest.raises(InvalidParameter, match=r"messages\[0\].role.*string"):
        enforce_input({"messages": [{"role": 1, "content": "x"}]}, schema)


def test_unsupported_input_type_is_refused() -> None:
    with pytest.raises(InvalidParameter, match=r"Cannot use a object"):
        enforce_input(object(), COLUMNS)


TENSOR = Schema((TensorSpec(np.dtype("float32"), (-1, 3)),))


def test_tensor_shape_and_dtype_are_checked() -> None:
    ok = np.ones((2, 3), dtype=np.float32)
    assert enforce_input(ok, TENSOR) is ok
    assert enforce_input(np.ones((2, 3), dtype=np.int8), TENSOR).dtype == np.float32
    with pytest.raises(InvalidParameter, match=r"shape \(2, 4\).*\(-1, 3\)"):
        enforce_input(np.ones((2, 4), dtype=np.float32), TENSOR)
    with pytest.raises(InvalidParameter, match=r"float64.*float32"):
        enforce_input(np.ones((2, 3)), TENSOR)


def test_named_tensors_need_every_name() -> None:
    schema = Schema(
        (TensorSpec(np.dtype("int64"), (-1,), "a"), TensorSpec(np.dtype("int64"), (-1,), "b"))
    )
    with pytest.raises(InvalidParameter, match="'b'"):
        enforce_input({"a": np.array([1])}, schema)
    out = enforce_input({"a": [1], "b": [2]}, schema)
    assert out["b"].tolist() == [2]


PARAMS = ParamSchema(
    (ParamSpec("k", DataType.long, 3), ParamSpec("tags", DataType.string, ["a"], (-1,)))
)


def test_params_get_defaults_and_are_type_checked() -> None:
    assert enforce_params(None, PARAMS, True) == {"k": 3, "tags": ["a"]}
    assert enforce_params({"k": 5}, PARAMS, True) == {"k": 5, "tags": ["a"]}
    with pytest.raises(InvalidParameter, match="'k' must be a long"):
        enforce_params({"k": "five"}, PARAMS, True)
    with pytest.raises(InvalidParameter, match="'tags' must be a list"):
        enforce_params({"tags": "a"}, PARAMS, True)


def test_unknown_params_are_ignored_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="'zzz'"):
        assert enforce_params({"zzz": 1}, PARAMS, True) == {"k": 3, "tags": ["a"]}
    with pytest.warns(UserWarning, match="no params schema"):
        assert enforce_params({"k": 1}, None, True) is None
    assert enforce_params({"k": 1}, None, False) == {"k": 1}


def test_ragged_columns_are_a_clear_error() -> None:
    with pytest.raises(InvalidParameter, match="cannot be read as a table"):
        enforce_input({"x": [1.0, 2.0], "n": [1], "s": ["a"]}, COLUMNS)
