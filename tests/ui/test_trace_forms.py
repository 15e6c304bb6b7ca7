"""What the trace page's expectation form accepts as a value, and what it refuses."""

from __future__ import annotations

from typing import Any

import pytest

from heron.errors import InvalidParameter
from heron.ui.trace_pages import MAX_EXPECTATION_CHARS, expectation_value


@pytest.mark.parametrize(
    ("text", "read_as", "expected"),
    [
        ("Paris", "text", "Paris"),
        ('{"facts": ["a"]}', "text", '{"facts": ["a"]}'),
        ('{"facts": ["a", 1]}', "json", {"facts": ["a", 1]}),
        ("[1, 2.5]", "json", [1, 2.5]),
        ("true", "json", True),
        ('"quoted"', "json", "quoted"),
    ],
    ids=["text", "json-looking-text", "object", "list", "bool", "json-string"],
)
def test_expectation_value_reads_text_or_json(text: str, read_as: str, expected: Any) -> None:
    assert expectation_value(text, read_as) == expected


@pytest.mark.parametrize(
    ("text", "read_as", "message"),
    [
        ("", "text", "needs a value"),
        ("   ", "json", "needs a value"),
        ("{", "json", "not valid JSON"),
        ("Paris", "json", "choose Text"),
        ("x" * (MAX_EXPECTATION_CHARS + 1), "text", "longer than"),
        ("Paris", "yaml", "as JSON or as text"),
    ],
    ids=["empty", "blank", "bad-json", "bare-word-as-json", "too-long", "unknown-format"],
)
def test_expectation_value_refuses_with_a_reason(text: str, read_as: str, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        expectation_value(text, read_as)
