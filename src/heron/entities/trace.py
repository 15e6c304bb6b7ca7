"""Traces (GenAI tracing): a trace's info, its spans, their events and statuses."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from heron.entities import reserved
from heron.entities.assessment import Assessment

TRACE_ID_PREFIX = "tr-"
# The last moment MLflow's JSON writes (pb.Timestamp, RFC 3339: 9999-12-31T23:59:59.999Z), in
# ms since the epoch: a later trace or assessment time could be stored but never read back.
MAX_TIMESTAMP_MS = 253_402_300_799_999


class TraceState(enum.StrEnum):
    """Where a trace stands: IN_PROGRESS until its root span ends, then OK or ERROR."""

    STATE_UNSPECIFIED = "STATE_UNSPECIFIED"
    OK = "OK"
    ERROR = "ERROR"
    IN_PROGRESS = "IN_PROGRESS"


class SpanStatusCode(enum.StrEnum):
    """OpenTelemetry's span status: UNSET when the code never said."""

    UNSET = "UNSET"
    OK = "OK"
    ERROR = "ERROR"


class SpanType:
    """The kinds of step a span records (MLflow's names; any other string is allowed too)."""

    LLM = "LLM"
    CHAT_MODEL = "CHAT_MODEL"
    CHAIN = "CHAIN"
    AGENT = "AGENT"
    TOOL = "TOOL"
    RETRIEVER = "RETRIEVER"
    EMBEDDING = "EMBEDDING"
    RERANKER = "RERANKER"
    PARSER = "PARSER"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True, slots=True, kw_only=True)
class SpanEvent:
    """Something that happened during a span (an exception, a streamed chunk, ...)."""

    name: str
    time_unix_nano: int
    attributes: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """One step of a trace. `inputs` and `outputs` are JSON values (None when not recorded);
    `attributes` holds every other attribute, decoded from OTel's typed values."""

    trace_id: str  # "tr-" + 32 hex digits
    span_id: str  # 16 hex digits
    parent_span_id: str | None
    name: str
    span_type: str = SpanType.UNKNOWN
    status: SpanStatusCode = SpanStatusCode.UNSET
    status_message: str = ""
    start_time_ns: int
    end_time_ns: int | None = None
    inputs: Any = None
    outputs: Any = None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    events: Sequence[SpanEvent] = ()

    @property
    def duration_ns(self) -> int | None:
        return None if self.end_time_ns is None else self.end_time_ns - self.start_time_ns


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class TraceInfo:
    trace_id: str  # "tr-" + 32 hex digits
    experiment_id: str
    request_time: int  # ms since epoch
    execution_duration: int | None = None  # ms
    state: TraceState = TraceState.IN_PROGRESS
    request_preview: str | None = None
    response_preview: str | None = None
    client_request_id: str | None = None
    trace_metadata: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)
    assessments: Sequence[Assessment] = ()
    token_usage: TokenUsage | None = None

    @property
    def name(self) -> str | None:
        return self.tags.get(reserved.TRACE_NAME)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trace:
    info: TraceInfo
    spans: Sequence[Span] = ()

    @property
    def root_span(self) -> Span | None:
        ids = {s.span_id for s in self.spans}
        return next((s for s in self.spans if s.parent_span_id not in ids), None)
