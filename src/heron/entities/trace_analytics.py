"""What the GenAI views read from traces: an overview over time, sessions and app versions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import orjson

TOOL_SPAN_TYPE = "TOOL"
PERCENTILES = (0.5, 0.9, 0.99)


@dataclass(frozen=True, slots=True, kw_only=True)
class Latency:
    """Percentiles of durations in ms, interpolated as PostgreSQL's percentile_cont does
    (None when nothing was measured)."""

    p50: float | None = None
    p90: float | None = None
    p99: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceBucket:
    """The traces that started in [start_ms, end_ms)."""

    start_ms: int
    end_ms: int
    traces: int = 0
    errors: int = 0
    latency: Latency = field(default_factory=Latency)
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0
    cost: float = 0.0  # USD


@dataclass(frozen=True, slots=True, kw_only=True)
class ScorePoint:
    """One feedback name's valid values on the traces of one bucket."""

    start_ms: int
    end_ms: int
    count: int  # values that read as a number (see Score)
    mean: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Score:
    """A feedback or judge score over time. A value counts as a number when it is one, or
    true/false, or "yes"/"no" (1 and 0); other values are left out of the mean."""

    name: str
    count: int
    mean: float | None
    points: Sequence[ScorePoint] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolPoint:
    start_ms: int
    end_ms: int
    calls: int
    errors: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Tool:
    """The TOOL spans of one name that started in the window (latency in ms)."""

    name: str
    calls: int
    errors: int
    latency: Latency = field(default_factory=Latency)
    points: Sequence[ToolPoint] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Overview:
    start_ms: int
    end_ms: int
    buckets: Sequence[TraceBucket]
    totals: TraceBucket  # the whole window, percentiles included
    scores: Sequence[Score] = ()
    tools: Sequence[Tool] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionSummary:
    """A conversation: the traces sharing one `mlflow.trace.session`, within the window."""

    session_id: str
    turns: int
    first_ms: int  # start of its first trace
    last_ms: int  # start of its last trace
    errors: int
    total_tokens: int
    duration_ms: int  # its traces' durations added up
    first_request: str | None = None  # the first turn's request preview
    user: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PromptRef:
    name: str
    version: str


@dataclass(frozen=True, slots=True, kw_only=True)
class VersionStats:
    """The traces of one app version (LoggedModel id; None for traces without one)."""

    model_id: str | None
    traces: int
    errors: int
    latency: Latency = field(default_factory=Latency)
    total_tokens: int = 0
    cost: float = 0.0
    scores: Mapping[str, tuple[int, float | None]] = field(default_factory=dict)  # count, mean
    prompts: Sequence[PromptRef] = ()  # linked to the version's traces in the window


def linked_prompts(text: str | None) -> list[PromptRef]:
    """The prompt versions in an `mlflow.linkedPrompts` value (a JSON list of {"name",
    "version"}); what is not in that shape is skipped."""
    if not text:
        return []
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return []
    refs = []
    for item in value if isinstance(value, list) else ():
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            refs.append(PromptRef(name=item["name"], version=str(item.get("version", ""))))
    return refs
