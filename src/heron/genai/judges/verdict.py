"""Reading a judge's answer: the JSON verdict small local models wrap in prose or code fences,
with its value checked against what the judge asks for, and the message that re-asks a model
whose answer could not be read."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_VALUE_KEYS = ("result", "value", "verdict", "score", "answer", "rating")
_RATIONALE_KEYS = ("rationale", "reason", "reasoning", "explanation", "justification")
_YES = {"yes", "y", "true", "pass", "passed", "correct"}
_NO = {"no", "n", "false", "fail", "failed", "incorrect"}


class Unreadable(ValueError):
    """The answer holds no verdict of the kind asked for; the message says why."""


@dataclass(frozen=True, slots=True)
class ValueType:
    """What a judge's `result` may be: "yes"/"no" (the default), a number (between `low` and
    `high` when given), one of `options`, or any JSON value ("any")."""

    kind: str = "yes_no"  # "yes_no", "number", "options", "bool", "text", "any"
    options: tuple[str, ...] = ()
    low: float | None = None
    high: float | None = None

    def describe(self) -> str:
        if self.kind == "yes_no":
            return '"yes" or "no"'
        if self.kind == "bool":
            return "true or false"
        if self.kind == "number":
            if self.low is not None and self.high is not None:
                return f"a number from {self.low:g} to {self.high:g}"
            return "a number"
        if self.kind == "options":
            return "one of " + ", ".join(f'"{o}"' for o in self.options)
        if self.kind == "text":
            return "a short text"
        return "a JSON value"

    def check(self, value: Any) -> Any:
        if self.kind in ("yes_no", "bool"):
            word = str(value).strip().strip(".!").lower() if not isinstance(value, bool) else None
            yes = value is True or word in _YES
            if not yes and value is not False and word not in _NO:
                raise Unreadable(f"the result {value!r} is not {self.describe()}")
            return yes if self.kind == "bool" else ("yes" if yes else "no")
        if self.kind == "number":
            return self._number(value)
        if self.kind == "options":
            for option in self.options:
                if str(value).strip().lower() == option.lower():
                    return option
            raise Unreadable(f"the result {value!r} is not {self.describe()}")
        if self.kind == "text":
            return str(value)
        return value

    def _number(self, value: Any) -> float | int:
        try:
            number = float(value) if not isinstance(value, bool) else float("nan")
        except (TypeError, ValueError):
            raise Unreadable(f"the result {value!r} is not a number") from None
        if (
            number != number
            or (self.low is not None and number < self.low)
            or (self.high is not None and number > self.high)
        ):
            raise Unreadable(f"the result {value!r} is not {self.describe()}")
        return int(number) if number.is_integer() else number


def read_verdict(text: str, value_type: ValueType) -> tuple[Any, str | None]:
    """The (value, rationale) of a judge's answer. Raises Unreadable."""
    data = _json_object(text)
    key = next((k for k in _VALUE_KEYS if k in data), None)
    if key is None:
        raise Unreadable(f'the JSON has no "result" (it has {", ".join(data) or "nothing"})')
    rationale = next((data[k] for k in _RATIONALE_KEYS if k in data), None)
    return value_type.check(data[key]), None if rationale is None else str(rationale)


def _json_object(text: str) -> dict[str, Any]:
    candidates: Sequence[str] = [m.group(1) for m in _FENCE.finditer(text)] or [text]
    for candidate in candidates:
        start, end = candidate.find("{"), candidate.rfind("}")
        if start < 0 or end <= start:
            continue
        try:
            data = orjson.loads(candidate[start : end + 1])
        except orjson.JSONDecodeError:
            continue
        if isinstance(data, dict):
            return data
    raise Unreadable("the answer holds no JSON object")


def answer_format(value_type: ValueType) -> str:
    """What every judge prompt ends with: the one JSON object to answer with."""
    return (
        "\n\nAnswer with one JSON object and nothing else, in this form:\n"
        '{"rationale": "<your reasoning, step by step, in a few sentences>", '
        f'"result": <{value_type.describe()}>}}'
    )


def reask(reason: str, value_type: ValueType) -> str:
    return (
        f"Your answer could not be read: {reason}. Reply again with only the JSON object "
        f'{{"rationale": "...", "result": {value_type.describe()}}}, with no other text.'
    )
