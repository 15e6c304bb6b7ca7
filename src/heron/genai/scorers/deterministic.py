"""Scorers that need no model: exact match, contains, regex, JSON validity, latency, token
count and cost. Pass/fail checks answer "yes" or "no" (as MLflow's RegexMatch does), so their
`/mean` is the share that passed; measures answer a number."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

import orjson

from heron.entities import reserved
from heron.entities.trace import Trace
from heron.errors import InvalidParameter
from heron.genai.feedback import Feedback
from heron.genai.scoring import Row, Scorer
from heron.genai.text import as_text, outputs_of


def _verdict(passed: bool, rationale: str) -> Feedback:
    return Feedback(value="yes" if passed else "no", rationale=rationale)


def _expected(row: Row, key: str, scorer: str) -> Any:
    if key not in row.expectations:
        raise InvalidParameter(f"{scorer} needs the expectation {key!r} in each row")
    return row.expectations[key]


class ExactMatch(Scorer):
    """Whether the outputs equal `expectations[expectation]` (text compared after trimming,
    unless `strip=False`; other values compared as JSON)."""

    def __init__(
        self, name: str = "exact_match", *, expectation: str = "expected_response",
        strip: bool = True, case_sensitive: bool = True,
    ) -> None:  # fmt: skip
        super().__init__(name)
        self.expectation, self.strip, self.case_sensitive = expectation, strip, case_sensitive

    def score(self, row: Row) -> Feedback:
        expected = _expected(row, self.expectation, type(self).__name__)
        actual = outputs_of(row.outputs, row.trace)
        if isinstance(expected, str):
            a, e = as_text(actual), expected
            if self.strip:
                a, e = a.strip(), e.strip()
            if not self.case_sensitive:
                a, e = a.casefold(), e.casefold()
            same = a == e
        else:
            same = actual == expected
        return _verdict(same, "The outputs equal the expected response" if same else
                        "The outputs differ from the expected response")  # fmt: skip


class Contains(Scorer):
    """Whether the outputs' text contains `substring`, or else `expectations[expectation]`
    (each of them when it is a list)."""

    def __init__(
        self, name: str = "contains", *, substring: str | None = None,
        expectation: str = "expected_response", case_sensitive: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(name)
        self.substring, self.expectation, self.case_sensitive = (
            substring, expectation, case_sensitive,
        )  # fmt: skip

    def score(self, row: Row) -> Feedback:
        wanted = self.substring
        needles = [wanted] if wanted is not None else _expected(row, self.expectation, "Contains")
        if isinstance(needles, str):
            needles = [needles]
        text = as_text(outputs_of(row.outputs, row.trace))
        fold = (lambda s: s) if self.case_sensitive else str.casefold
        missing = [n for n in needles if fold(str(n)) not in fold(text)]
        if missing:
            return _verdict(False, f"The outputs lack {', '.join(map(repr, missing))}")
        return _verdict(True, "The outputs contain every expected text")


class RegexMatch(Scorer):
    """Whether the outputs' text matches `pattern` (anywhere, or whole with `fullmatch`)."""

    def __init__(
        self, pattern: str, name: str = "regex_match", *,
        match_type: Literal["search", "fullmatch"] = "search", case_insensitive: bool = False,
    ) -> None:  # fmt: skip
        super().__init__(name)
        try:
            self.regex = re.compile(pattern, re.IGNORECASE if case_insensitive else 0)
        except re.error as exc:
            raise InvalidParameter(f"Invalid regular expression {pattern!r}: {exc}") from None
        if match_type not in ("search", "fullmatch"):
            raise InvalidParameter("match_type is 'search' or 'fullmatch'")
        self.pattern, self.match_type = pattern, match_type

    def score(self, row: Row) -> Feedback:
        text = as_text(outputs_of(row.outputs, row.trace))
        found = (self.regex.fullmatch if self.match_type == "fullmatch" else self.regex.search)(
            text
        )
        verb = "matches" if found else "does not match"
        return _verdict(found is not None, f"The output {verb} {self.pattern!r}")


class ValidJson(Scorer):
    """Whether the outputs are JSON: a dict or list as they are, or text that parses."""

    def __init__(self, name: str = "valid_json") -> None:
        super().__init__(name)

    def score(self, row: Row) -> Feedback:
        outputs = outputs_of(row.outputs, row.trace)
        if isinstance(outputs, dict | list):
            return _verdict(True, "The outputs are structured JSON")
        try:
            orjson.loads(as_text(outputs))
        except orjson.JSONDecodeError as exc:
            return _verdict(False, f"The outputs are not JSON: {exc}")
        return _verdict(True, "The outputs parse as JSON")


def _needs_trace(row: Row, scorer: str) -> Trace:
    if row.trace is None:
        raise InvalidParameter(f"{scorer} reads the row's trace, and this row has none")
    return row.trace


class Latency(Scorer):
    """How long the app took on the row, in milliseconds (the trace's root span)."""

    def __init__(self, name: str = "latency_ms") -> None:
        super().__init__(name)

    def score(self, row: Row) -> Feedback:
        trace = _needs_trace(row, "Latency")
        root = trace.root_span
        if root is not None and root.duration_ns is not None:
            return Feedback(value=root.duration_ns / 1e6)
        if trace.info.execution_duration is not None:
            return Feedback(value=float(trace.info.execution_duration))
        raise InvalidParameter("The trace has not ended: it has no duration")


def _span_sums(trace: Trace, attribute: str, key: str) -> float | None:
    total, seen = 0.0, False
    for span in trace.spans:
        value = span.attributes.get(attribute)
        if isinstance(value, Mapping) and isinstance(value.get(key), int | float):
            total += float(value[key])
            seen = True
    return total if seen else None


class TokenCount(Scorer):
    """The tokens the row's LLM calls used (`total_tokens` of each span's token usage, or the
    trace's own count; `kind="input"` or `"output"` for one side)."""

    def __init__(
        self, name: str = "token_count", *, kind: Literal["total", "input", "output"] = "total"
    ) -> None:
        super().__init__(name)
        self.key = f"{kind}_tokens"

    def score(self, row: Row) -> Feedback:
        trace = _needs_trace(row, "TokenCount")
        usage = trace.info.token_usage
        if usage is not None:
            return Feedback(value=getattr(usage, self.key))
        summed = _span_sums(trace, reserved.CHAT_TOKEN_USAGE, self.key)
        return Feedback(value=summed if summed is not None else 0, rationale=None)


class Cost(Scorer):
    """What the row's LLM calls cost in USD: the sum of the spans' `mlflow.llm.cost`."""

    def __init__(self, name: str = "cost_usd") -> None:
        super().__init__(name)

    def score(self, row: Row) -> Feedback:
        trace = _needs_trace(row, "Cost")
        total = _span_sums(trace, reserved.LLM_COST, "total_cost")
        if total is None:
            return Feedback(value=0.0, rationale="No span of the trace has a cost")
        return Feedback(value=total)
