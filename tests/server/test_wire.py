"""Reading proto-JSON request fields: types are checked, never coerced."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import QueryParams

from heron.errors import InvalidParameter
from heron.mlflow_json import double
from heron.server.wire import Fields, parse_json_object

INT64_MAX = 2**63 - 1


@given(st.integers(min_value=-(2**63), max_value=INT64_MAX))
def test_int64_accepts_numbers_and_decimal_strings(n: int) -> None:
    assert Fields({"step": n}).int64("step") == n
    assert Fields({"step": str(n)}).int64("step") == n


@pytest.mark.parametrize(
    "value",
    [1.5, "1.5", "1e3", " 1", True, 2**63, -(2**63) - 1, str(2**63), "9" * 5000, "²", [], {}, "x"],
    ids=[
        "float",
        "float-str",
        "exp-str",
        "space",
        "bool",
        "over",
        "under",
        "over-str",
        "5000-digits",  # more than Python's int() reads
        "unicode-digit",
        "list",
        "obj",
        "word",
    ],
)
def test_int64_rejects(value: object) -> None:
    with pytest.raises(InvalidParameter, match="'step'"):
        Fields({"step": value}).int64("step")


def test_int64_takes_integral_float_like_protobuf() -> None:
    # MLflow compat: protobuf's JSON parser accepts 5.0 for an int64 field.
    assert Fields({"step": 5.0}).int64("step") == 5


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1, 1.0), (2.5, 2.5), ("2.5", 2.5), ("Infinity", math.inf), ("-Infinity", -math.inf)],
)
def test_double_accepts(value: object, expected: float) -> None:
    assert Fields({"value": value}).double("value") == expected


def test_double_nan_string() -> None:
    assert math.isnan(Fields({"value": "NaN"}).double("value") or 0.0)


@pytest.mark.parametrize("value", ["nan", "inf", "abc", True, None, [1]], ids=repr)
def test_double_rejects(value: object) -> None:
    fields = Fields({"value": value})
    if value is None:
        with pytest.raises(InvalidParameter, match="Missing value for required parameter"):
            fields.double("value", required=True)
    else:
        with pytest.raises(InvalidParameter):
            fields.double("value")


def test_string_is_never_coerced() -> None:
    with pytest.raises(InvalidParameter, match="must be a string"):
        Fields({"key": 5}).string("key")


def test_required_string_missing_message() -> None:
    with pytest.raises(InvalidParameter, match="Missing value for required parameter 'name'"):
        Fields({}).required_string("name")


def test_null_reads_as_absent() -> None:
    assert Fields({"run_name": None}).string("run_name") is None


def test_camel_case_alias_is_accepted() -> None:
    assert Fields({"runId": "abc"}).string("run_id") == "abc"


def test_both_spellings_are_rejected() -> None:
    with pytest.raises(InvalidParameter, match="given twice"):
        Fields({"run_id": "a", "runId": "b"}).string("run_id")


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("False", False), ("TRUE", True)])
def test_query_booleans_any_case(text: str, expected: bool) -> None:
    query = QueryParams({"flag": text})
    assert Fields(query, query).boolean("flag") is expected


def test_json_booleans_must_be_json_booleans() -> None:
    with pytest.raises(InvalidParameter):
        Fields({"flag": "true"}).boolean("flag")


def test_query_repeated_keys_are_lists() -> None:
    query = QueryParams("run_ids=a&run_ids=b")
    assert Fields(query, query).strings("run_ids") == ["a", "b"]


def test_enum_by_name_or_number() -> None:
    names = {"ACTIVE_ONLY": 1, "ALL": 3}
    assert Fields({"v": "ALL"}).enum("v", names) == 3
    assert Fields({"v": 1}).enum("v", names) == 1
    for wrong in ("SOME", "9" * 5000, "²", [1], {}):
        with pytest.raises(InvalidParameter, match="one of ACTIVE_ONLY, ALL"):
            Fields({"v": wrong}).enum("v", names)


def test_empty_body_is_empty_object() -> None:
    assert parse_json_object(b"") == {}


def test_double_encoded_body_is_decoded_again() -> None:
    # MLflow compat: old clients send the JSON object as a JSON string.
    assert parse_json_object(b'"{\\"name\\": \\"x\\"}"') == {"name": "x"}


@pytest.mark.parametrize("body", [b"[1]", b"5", b'"[]"', b"{", b"\xff"], ids=repr)
def test_body_must_be_a_json_object(body: bytes) -> None:
    with pytest.raises(InvalidParameter):
        parse_json_object(body)


def test_depth_limit() -> None:
    parse_json_object(b'{"a":' * 63 + b"1" + b"}" * 63)
    with pytest.raises(InvalidParameter, match="nests deeper"):
        parse_json_object(b'{"a":' * 100 + b"1" + b"}" * 100)


def test_wide_bodies_are_not_mistaken_for_deep_ones() -> None:
    body = b'{"metrics": [' + b",".join([b'{"key": "k"}'] * 500) + b"]}"
    assert len(parse_json_object(body)["metrics"]) == 500


def test_double_renders_non_finite_as_strings() -> None:
    assert [double(x) for x in (math.nan, math.inf, -math.inf, 1.5)] == [
        "NaN",
        "Infinity",
        "-Infinity",
        1.5,
    ]


@pytest.mark.parametrize(
    "body",
    [
        b'{"name": "a\\u0000b"}',
        b'{"tags": [{"key": "k\\u0000", "value": "v"}]}',
        b'"{\\"a\\": \\"\\\\u0000\\"}"',
    ],
    ids=["value", "nested-key", "double-encoded"],
)
def test_a_nul_character_anywhere_is_refused(body: bytes) -> None:
    with pytest.raises(InvalidParameter, match="NUL"):
        parse_json_object(body)


def test_an_escaped_backslash_before_u0000_is_text() -> None:
    assert parse_json_object(b'{"name": "a\\\\u0000"}') == {"name": "a\\u0000"}
