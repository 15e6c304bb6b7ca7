"""GenAI tracing on the OpenTelemetry SDK: @trace, start_span, and a non-blocking exporter."""

from heron.entities.trace import SpanType
from heron.tracing.exporter import ExportStats
from heron.tracing.fluent import (
    configure,
    export_stats,
    flush,
    flush_trace_async_logging,
    get_current_active_span,
    get_last_active_trace_id,
    start_span,
    trace,
    update_current_trace,
)
from heron.tracing.records import (
    delete_assessment,
    get_assessment,
    get_trace,
    log_expectation,
    log_feedback,
    override_feedback,
    search_traces,
    update_assessment,
)
from heron.tracing.threads import copy_context
from heron.tracing.tracer import LiveSpan

__all__ = [
    "ExportStats",
    "LiveSpan",
    "SpanType",
    "configure",
    "copy_context",
    "delete_assessment",
    "export_stats",
    "flush",
    "flush_trace_async_logging",
    "get_assessment",
    "get_current_active_span",
    "get_last_active_trace_id",
    "get_trace",
    "log_expectation",
    "log_feedback",
    "override_feedback",
    "search_traces",
    "start_span",
    "trace",
    "update_assessment",
    "update_current_trace",
]
