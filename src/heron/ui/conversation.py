"""A trace as one turn of a conversation: the user's message and the answer, read from the
root span's inputs and outputs in the shapes chat apps log (OpenAI chat messages and
choices, the Responses API's output, a single text field), else the JSON as it is."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from heron.entities import reserved
from heron.entities.assessment import Assessment, AssessmentKind
from heron.entities.trace import Trace
from heron.ui.trace_view import pretty

_TEXT_KEYS = ("content", "text", "question", "query", "input", "prompt", "message", "answer",
              "output", "response", "result")  # fmt: skip


@dataclass(frozen=True, slots=True)
class Turn:
    trace: Trace
    request: str
    response: str
    assessments: Sequence[Assessment]  # feedback on this turn (not the session's)


def turn(trace: Trace) -> Turn:
    root = trace.root_span
    info = trace.info
    request = message_text(root.inputs, "user") if root else None
    response = message_text(root.outputs, "assistant") if root else None
    return Turn(
        trace=trace,
        request=request if request is not None else (info.request_preview or ""),
        response=response if response is not None else (info.response_preview or ""),
        assessments=[a for a in info.assessments if not of_session(a)],
    )


def of_session(assessment: Assessment) -> bool:
    """An assessment of the whole conversation (a session-level judge): MLflow logs those on
    a turn, naming the session in the assessment's metadata."""
    return reserved.TRACE_SESSION in assessment.metadata


def session_assessments(traces: Sequence[Trace]) -> list[Assessment]:
    """The session-level assessments on any turn, feedback first, newest first."""
    found = [a for t in traces for a in t.info.assessments if of_session(a)]
    return sorted(
        found,
        key=lambda a: (a.kind != AssessmentKind.FEEDBACK, -a.create_time, a.assessment_id),
    )


def message_text(value: Any, role: str) -> str | None:
    """The text of the message from `role` in a chat-shaped value (the last one), or the
    value's text when it is one; pretty JSON otherwise; None for no value."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping):
        found = _from_mapping(value, role)
        if found is not None:
            return found
    if isinstance(value, list):
        found = _last_of_role(value, role)
        if found is not None:
            return found
    return pretty(value)


def _from_mapping(value: Mapping[str, Any], role: str) -> str | None:
    if isinstance(value.get("messages"), list):
        found = _last_of_role(value["messages"], role)
        if found is not None:
            return found
    choices = value.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], Mapping):
        message = choices[0].get("message") or {}
        if isinstance(message, Mapping):
            return _content(message.get("content"))
    if isinstance(value.get("output"), list):  # the Responses API
        found = _last_of_role(value["output"], role)
        if found is not None:
            return found
    texts = [v for k, v in value.items() if k in _TEXT_KEYS and isinstance(v, str)]
    if len(texts) == 1:
        return texts[0]
    if len(value) == 1:
        (only,) = value.values()
        if isinstance(only, str):
            return only
    return None


def _last_of_role(messages: Sequence[Any], role: str) -> str | None:
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == role:
            return _content(message.get("content"))
    return None


def _content(content: Any) -> str | None:
    """A message's content: its text, or the text parts of a list of parts joined."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p["text"] for p in content if isinstance(p, Mapping) and _is_text(p.get("text"))]
        return "\n".join(parts) if parts else pretty(content)
    return None if content is None else pretty(content)


def _is_text(value: Any) -> bool:
    return isinstance(value, str)
