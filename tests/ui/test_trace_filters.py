"""The traces list's fields as one trace filter string, and the errors a user sees."""

from __future__ import annotations

import pytest

from heron.errors import InvalidParameter
from heron.search.traces import parse_trace_filter
from heron.ui.traces import TraceFilters, filter_string

NOW = 1_700_000_000_000


def test_fields_become_clauses_the_trace_grammar_reads() -> None:
    filters = TraceFilters(
        text="chat", status="ERROR", range="24h", tags=["team = vision", "odd`key=it's"]
    )
    text = filter_string(filters, now=NOW)
    assert text == (
        "trace.status = 'ERROR' AND timestamp_ms >= 1699913600000 AND tags.`team` = 'vision' "
        "AND tags.\"odd`key\" = 'it\\'s' AND name ILIKE '%chat%'"
    )
    assert len(parse_trace_filter(text)) == 5


def test_text_with_a_comparison_is_passed_as_a_filter() -> None:
    text = "span.type = 'LLM' AND execution_time_ms > 500"
    assert filter_string(TraceFilters(text=text)) == text


def test_a_custom_range_reads_utc_times() -> None:
    filters = TraceFilters(range="custom", start="2023-11-14T22:13", end="2023-11-15T00:00")
    assert filter_string(filters) == (
        "timestamp_ms >= 1699999980000 AND timestamp_ms <= 1700006400000"
    )


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        (TraceFilters(status="DONE"), "Unknown trace status 'DONE'"),
        (TraceFilters(range="2y"), "Unknown time range '2y'"),
        (TraceFilters(range="custom", start="yesterday"), "From time 'yesterday' is not a date"),
        (TraceFilters(tags=["team"]), "Tag filter 'team' must read key=value"),
    ],
)
def test_bad_fields_say_what_to_fix(filters: TraceFilters, message: str) -> None:
    with pytest.raises(InvalidParameter, match=message):
        filter_string(filters)
