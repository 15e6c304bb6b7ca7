"""The OpenTelemetry side: one TracerProvider of Heron's own (the app's global one is left
alone), a span processor that gathers each trace's spans until its root ends, and LiveSpan,
the handle user code gets. Context lives in OTel's contextvars, so asyncio tasks see their
parent span; a thread started with `contextvars.copy_context().run` does too."""

from __future__ import annotations

import getpass
import logging
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace as otel_trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace import Span as SdkSpan
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import Status, StatusCode

from heron.entities import reserved
from heron.entities.trace import Span
from heron.services.traces import (
    CLIENT_REQUEST_ID_ATTRIBUTE,
    TRACE_METADATA_ATTRIBUTE,
    TRACE_TAGS_ATTRIBUTE,
)
from heron.tracing.convert import encode, heron_span, trace_id_of
from heron.tracing.exporter import Sender, TraceExporter

log = logging.getLogger("heron.tracing")

Destination = tuple[Sender, str, dict[str, str]]  # sender, experiment id, trace metadata


@dataclass
class _OpenTrace:
    root_span_id: int
    sender: Sender
    experiment_id: str
    metadata: dict[str, str]
    tags: dict[str, str] = field(default_factory=dict)
    client_request_id: str | None = None
    spans: list[ReadableSpan] = field(default_factory=list)


@dataclass
class PendingTrace:
    """A finished trace on its way out; converted to Heron spans on the exporter thread."""

    spans: list[ReadableSpan]
    root_span_id: int
    extra: dict[str, Any]

    def heron_spans(self) -> list[Span]:
        return [
            heron_span(
                s, self.extra if s.context and s.context.span_id == self.root_span_id else None
            )
            for s in self.spans
        ]


@dataclass
class KeptTrace:
    """A finished trace its caller asked to keep: where it would have gone, and its spans."""

    sender: Sender
    experiment_id: str
    pending: PendingTrace


class HeronSpanProcessor(SpanProcessor):
    """Keeps each open trace's finished spans; hands the whole trace to the exporter when its
    (local) root span ends."""

    def __init__(self, exporter: TraceExporter, destination: Callable[[], Destination]) -> None:
        self._exporter = exporter
        self._destination = destination
        self._open: dict[int, _OpenTrace] = {}
        self._kept: dict[int, Callable[[KeptTrace], None]] = {}
        self._lock = threading.Lock()
        self.last_trace_id: str | None = None

    def on_start(self, span: SdkSpan, parent_context: Context | None = None) -> None:
        context = span.get_span_context()
        if context.trace_id in self._open:
            return
        try:
            sender, experiment_id, metadata = self._destination()
        except Exception as exc:  # tracing never breaks the app
            log.warning("Heron tracing: cannot tell where to send trace: %s", exc)
            return
        with self._lock:
            self._open.setdefault(
                context.trace_id, _OpenTrace(context.span_id, sender, experiment_id, metadata)
            )

    def on_end(self, span: ReadableSpan) -> None:
        context = span.context
        if context is None:
            return
        open_trace = self._open.get(context.trace_id)
        if open_trace is None:
            return
        open_trace.spans.append(span)
        if context.span_id != open_trace.root_span_id:
            return
        with self._lock:
            self._open.pop(context.trace_id, None)
        extra: dict[str, Any] = {TRACE_METADATA_ATTRIBUTE: open_trace.metadata}
        if open_trace.tags:
            extra[TRACE_TAGS_ATTRIBUTE] = open_trace.tags
        if open_trace.client_request_id is not None:
            extra[CLIENT_REQUEST_ID_ATTRIBUTE] = open_trace.client_request_id
        self.last_trace_id = trace_id_of(context.trace_id)
        pending = PendingTrace(open_trace.spans, open_trace.root_span_id, extra)
        receiver = self._kept.pop(context.trace_id, None)
        if receiver is not None:
            receiver(KeptTrace(open_trace.sender, open_trace.experiment_id, pending))
            return
        self._exporter.submit(open_trace.sender, open_trace.experiment_id, pending)

    def keep(self, trace_id: int, receiver: Callable[[KeptTrace], None]) -> None:
        """Hands the trace to `receiver` when its root span ends, instead of the exporter:
        the caller then sends it (an evaluation writes each trace before its scores)."""
        self._kept[trace_id] = receiver

    def open_trace(self, trace_id: int) -> _OpenTrace | None:
        return self._open.get(trace_id)

    def shutdown(self) -> None:
        self._exporter.flush(timeout_s=30)

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._exporter.flush(timeout_s=timeout_millis / 1000)


def make_provider(sampling_ratio: float, processor: SpanProcessor) -> TracerProvider:
    provider = TracerProvider(
        sampler=ParentBased(TraceIdRatioBased(sampling_ratio)),
        resource=Resource.get_empty(),
    )
    provider.add_span_processor(processor)
    return provider


def base_metadata() -> dict[str, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {
        reserved.TRACE_SCHEMA_VERSION: "3",
        reserved.USER: user,
        reserved.SOURCE_NAME: sys.argv[0] if sys.argv and sys.argv[0] else "<console>",
        reserved.SOURCE_TYPE: "LOCAL",
    }


class LiveSpan:
    """A span being recorded. Every method is safe: a tracing failure is logged, never raised
    into the traced code."""

    __slots__ = ("_span",)

    def __init__(self, span: otel_trace.Span) -> None:
        self._span = span

    @property
    def trace_id(self) -> str:
        return trace_id_of(self._span.get_span_context().trace_id)

    @property
    def span_id(self) -> str:
        return f"{self._span.get_span_context().span_id:016x}"

    @property
    def is_recording(self) -> bool:
        return self._span.is_recording()

    def set_attribute(self, key: str, value: Any) -> None:
        try:
            self._span.set_attribute(key, encode(value))
        except Exception as exc:
            log.debug("Heron tracing: attribute %r not set: %s", key, exc)

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def set_span_type(self, span_type: str) -> None:
        self.set_attribute(reserved.SPAN_TYPE, str(span_type))

    def set_inputs(self, inputs: Any) -> None:
        self.set_attribute(reserved.SPAN_INPUTS, inputs)

    def set_outputs(self, outputs: Any) -> None:
        self.set_attribute(reserved.SPAN_OUTPUTS, outputs)

    def add_event(self, name: str, attributes: Mapping[str, Any] | None = None) -> None:
        try:
            self._span.add_event(name, {k: encode(v) for k, v in (attributes or {}).items()})
        except Exception as exc:
            log.debug("Heron tracing: event %r not added: %s", name, exc)

    def record_exception(self, exc: BaseException) -> None:
        """Adds an `exception` event and marks the span ERROR."""
        try:
            self._span.record_exception(exc)
            self._span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        except Exception as err:
            log.debug("Heron tracing: exception not recorded: %s", err)

    def set_status(self, status: str, message: str | None = None) -> None:
        code = {"OK": StatusCode.OK, "ERROR": StatusCode.ERROR}.get(str(status).upper())
        if code is not None:
            self._span.set_status(Status(code, message if code == StatusCode.ERROR else None))

    def end(self) -> None:
        self._span.end()

    def finish(self) -> None:
        """Ends the span, OK unless an error was recorded; safe to call twice."""
        try:
            if getattr(self._span, "end_time", None) is not None:
                return
            status = getattr(self._span, "status", None)
            if status is not None and status.status_code == StatusCode.UNSET:
                self._span.set_status(Status(StatusCode.OK))
            self._span.end()
        except Exception as exc:
            log.debug("Heron tracing: span not ended: %s", exc)
