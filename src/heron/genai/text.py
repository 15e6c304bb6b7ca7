"""The text of a row's inputs, outputs and expectations, as judges and checks read them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from heron.entities.trace import Trace

# Keys an app's answer or question commonly sits under, in the order they are looked for.
_TEXT_KEYS = ("content", "response", "output", "answer", "text", "result")
_QUESTION_KEYS = ("question", "query", "request", "input", "prompt", "messages")


def as_text(value: Any) -> str:
    """A value as text: strings as they are, an OpenAI chat answer as its message, a dict
    with one of the usual answer keys as that, anything else as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        choices = value.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
            message = choices[0].get("message") or {}
            if isinstance(message, Mapping) and isinstance(message.get("content"), str):
                return str(message["content"])
        for key in _TEXT_KEYS:
            if isinstance(value.get(key), str):
                return str(value[key])
        if len(value) == 1:
            return as_text(next(iter(value.values())))
    if isinstance(value, list) and value and all(isinstance(m, Mapping) for m in value):
        last = value[-1]
        if "content" in last:  # chat messages: the last one speaks
            return as_text(last["content"])
    return to_json(value)


def question_text(inputs: Any) -> str:
    """The request in a row's inputs: the usual question keys first, else all the inputs."""
    if isinstance(inputs, Mapping):
        for key in _QUESTION_KEYS:
            if key in inputs:
                return as_text(inputs[key])
    return as_text(inputs)


def to_json(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


def outputs_of(outputs: Any, trace: Trace | None) -> Any:
    """The row's outputs, or its trace's root span outputs when the row has none."""
    if outputs is None and trace is not None and trace.root_span is not None:
        return trace.root_span.outputs
    return outputs


def inputs_of(inputs: Any, trace: Trace | None) -> Any:
    if inputs is None and trace is not None and trace.root_span is not None:
        return trace.root_span.inputs
    return inputs
