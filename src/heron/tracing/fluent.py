"""The tracing API: @trace, start_span, trace tags and metadata, flush, and reading traces back.

Traces go where the fluent API logs (`heron.set_tracking_uri`), to the active run's
experiment or the active experiment, linked to the active run and LoggedModel."""

from __future__ import annotations

import contextlib
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Mapping, Sequence
from typing import Any, TypeVar, overload

from opentelemetry import context as otel_context
from opentelemetry import trace as otel_trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Status, StatusCode

from heron.client.client import HeronClient
from heron.client.fluent import state
from heron.entities import reserved
from heron.entities.trace import SpanType
from heron.errors import InvalidParameter
from heron.tracing.exporter import ExportStats, Sender, TraceExporter
from heron.tracing.tracer import (
    Destination,
    HeronSpanProcessor,
    KeptTrace,
    LiveSpan,
    base_metadata,
    make_provider,
)

F = TypeVar("F", bound=Callable[..., Any])


class _Tracing:
    """The process's tracing state: one exporter, one provider, senders by tracking URI."""

    def __init__(self) -> None:
        self.exporter = TraceExporter()
        self.processor = HeronSpanProcessor(self.exporter, lambda: _destination())
        self.sampling_ratio = 1.0
        self.provider: TracerProvider = make_provider(1.0, self.processor)
        self.tracer = self.provider.get_tracer("heron")
        # Traces an evaluation records are never sampled out: each row's scores need one.
        self.always = make_provider(1.0, self.processor).get_tracer("heron")
        self.senders: dict[str, Sender] = {}
        self.metadata = base_metadata()
        self.lock = threading.Lock()


_tracing = _Tracing()


def configure(
    *,
    sampling_ratio: float | None = None,
    max_queue_traces: int | None = None,
    block_timeout_s: float | None = None,
) -> None:
    """Sets the share of traces recorded (0..1), the export queue's size, and how long traced
    code waits when the queue is full before a trace is counted lost."""
    if sampling_ratio is not None:
        if not 0.0 <= sampling_ratio <= 1.0:
            raise InvalidParameter(f"sampling_ratio must be between 0 and 1, got {sampling_ratio}")
        _tracing.sampling_ratio = sampling_ratio
        _tracing.provider = make_provider(sampling_ratio, _tracing.processor)
        _tracing.tracer = _tracing.provider.get_tracer("heron")
    exporter = _tracing.exporter
    if max_queue_traces is not None:
        exporter.resize(max_queue_traces)
    if block_timeout_s is not None:
        exporter.block_timeout_s = block_timeout_s


def _sender(client: HeronClient) -> Sender:
    sender = _tracing.senders.get(client.tracking_uri)
    if sender is None:

        def send(experiment_id: str, spans: Sequence[Any]) -> object:
            return client.log_spans(experiment_id, spans)

        with _tracing.lock:
            sender = _tracing.senders.setdefault(client.tracking_uri, send)
    return sender


def _destination() -> Destination:
    client = state.tracking_client()
    metadata = dict(_tracing.metadata)
    run = state.active_run()
    if run is not None:
        experiment_id = run.info.experiment_id
        metadata[reserved.TRACE_SOURCE_RUN] = run.info.run_id
    else:
        experiment_id = state.active_experiment_id()
    model_id = state.get_active_model_id()
    if model_id:
        metadata[reserved.TRACE_MODEL_ID] = model_id
    return _sender(client), experiment_id, metadata


# -- recording -------------------------------------------------------------------------------


class _NoopSpan(LiveSpan):
    """What start_span yields when tracing itself failed: every call does nothing."""

    def __init__(self) -> None:
        super().__init__(otel_trace.INVALID_SPAN)


@contextlib.contextmanager
def start_span(
    name: str = "span",
    span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
) -> Iterator[LiveSpan]:
    """Records a span around the block; an exception leaving it marks the span ERROR.

    Example:
        >>> with heron.start_span("retrieve", span_type=SpanType.RETRIEVER) as span:
        ...     span.set_inputs({"query": q})
        ...     span.set_outputs(docs)
    """
    try:
        otel_span = _tracing.tracer.start_span(
            name, record_exception=False, set_status_on_exception=False
        )
        token = otel_context.attach(otel_trace.set_span_in_context(otel_span))
        live = LiveSpan(otel_span)
        live.set_span_type(span_type)
        if attributes:
            live.set_attributes(attributes)
    except Exception as exc:  # tracing never breaks the traced code
        import logging

        logging.getLogger("heron.tracing").warning("Heron tracing: span not started: %s", exc)
        yield _NoopSpan()
        return
    try:
        yield live
    except BaseException as exc:
        live.record_exception(exc)
        raise
    finally:
        _finish(otel_span, token)


@contextlib.contextmanager
def start_kept_trace(
    name: str, receiver: Callable[[KeptTrace], None], span_type: str = SpanType.CHAIN
) -> Iterator[LiveSpan]:
    """Records a new trace (a root span, whatever span is current, never sampled out) whose
    spans go to `receiver` when it ends instead of to the exporter; the receiver sends them.
    An exception leaving the block marks the span ERROR and is re-raised."""
    otel_span = _tracing.always.start_span(
        name, context=otel_context.Context(), record_exception=False,
        set_status_on_exception=False,
    )  # fmt: skip
    _tracing.processor.keep(otel_span.get_span_context().trace_id, receiver)
    token = otel_context.attach(otel_trace.set_span_in_context(otel_span))
    live = LiveSpan(otel_span)
    live.set_span_type(span_type)
    try:
        yield live
    except BaseException as exc:
        live.record_exception(exc)
        raise
    finally:
        _finish(otel_span, token)


def begin_span(
    name: str, span_type: str = SpanType.UNKNOWN, attributes: Mapping[str, Any] | None = None
) -> LiveSpan:
    """Starts a span under the current one without making it current (for work that ends
    later, such as a stream the caller reads); `LiveSpan.finish()` ends it. Never raises."""
    try:
        otel_span = _tracing.tracer.start_span(
            name, record_exception=False, set_status_on_exception=False
        )
        live = LiveSpan(otel_span)
        live.set_span_type(span_type)
        if attributes:
            live.set_attributes(attributes)
        return live
    except Exception as exc:  # tracing never breaks the traced code
        import logging

        logging.getLogger("heron.tracing").warning("Heron tracing: span not started: %s", exc)
        return _NoopSpan()


def _finish(otel_span: otel_trace.Span, token: object) -> None:
    try:
        status = getattr(otel_span, "status", None)
        if (
            otel_span.is_recording()
            and status is not None
            and status.status_code == StatusCode.UNSET
        ):
            otel_span.set_status(Status(StatusCode.OK))
        otel_span.end()
    finally:
        otel_context.detach(token)  # type: ignore[arg-type]


def _inputs(
    signature: inspect.Signature | None, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    if signature is None:
        return {"args": list(args), **kwargs}
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return {"args": list(args), **kwargs}
    return {k: v for k, v in bound.arguments.items() if k not in ("self", "cls")}


def _aggregate(items: list[Any]) -> Any:
    """Streamed outputs as one value: text chunks joined, anything else as a list."""
    if items and all(isinstance(i, str) for i in items):
        return "".join(items)
    return items


@overload
def trace(func: F) -> F: ...


@overload
def trace(
    func: None = None,
    *,
    name: str | None = None,
    span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
) -> Callable[[F], F]: ...


def trace(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    span_type: str = SpanType.UNKNOWN,
    attributes: Mapping[str, Any] | None = None,
) -> Any:
    """Records each call of a function as a span: its arguments as inputs, its return value as
    outputs, an exception as ERROR. Works on sync and async functions and generators (the
    yielded items become the outputs: text chunks joined, other items as a list).

    Example:
        >>> @heron.trace(span_type=SpanType.TOOL)
        ... def lookup(q: str) -> list[str]: ...
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        span_name = name or fn.__name__
        try:
            signature: inspect.Signature | None = inspect.signature(fn)
        except (TypeError, ValueError):
            signature = None

        if inspect.isasyncgenfunction(fn):

            @functools.wraps(fn)
            async def agen_wrapper(*args: Any, **kwargs: Any) -> AsyncIterator[Any]:
                with start_span(span_name, span_type, attributes) as span:
                    span.set_inputs(_inputs(signature, args, kwargs))
                    items: list[Any] = []
                    async for item in fn(*args, **kwargs):
                        items.append(item)
                        yield item
                    span.set_outputs(_aggregate(items))

            return agen_wrapper
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                with start_span(span_name, span_type, attributes) as span:
                    span.set_inputs(_inputs(signature, args, kwargs))
                    result = await fn(*args, **kwargs)
                    span.set_outputs(result)
                    return result

            return async_wrapper
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def gen_wrapper(*args: Any, **kwargs: Any) -> Iterator[Any]:
                return _traced_generator(
                    fn(*args, **kwargs),
                    span_name,
                    span_type,
                    attributes,
                    _inputs(signature, args, kwargs),
                )

            return gen_wrapper

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with start_span(span_name, span_type, attributes) as span:
                span.set_inputs(_inputs(signature, args, kwargs))
                result = fn(*args, **kwargs)
                span.set_outputs(result)
                return result

        return wrapper

    return decorate(func) if func is not None else decorate


def _traced_generator(
    gen: Generator[Any, None, None],
    name: str,
    span_type: str,
    attributes: Mapping[str, Any] | None,
    inputs: Any,
) -> Iterator[Any]:
    """The span is current only while the generator runs, never across the consumer's code."""
    otel_span = _tracing.tracer.start_span(name)
    live = LiveSpan(otel_span)
    live.set_span_type(span_type)
    if attributes:
        live.set_attributes(attributes)
    live.set_inputs(inputs)
    span_context = otel_trace.set_span_in_context(otel_span)
    items: list[Any] = []
    try:
        while True:
            token = otel_context.attach(span_context)
            try:
                item = next(gen)
            except StopIteration:
                break
            finally:
                otel_context.detach(token)
            items.append(item)
            yield item
    except GeneratorExit:
        gen.close()
    except BaseException as exc:
        live.record_exception(exc)
        otel_span.end()
        raise
    live.set_outputs(_aggregate(items))
    if otel_span.is_recording():
        otel_span.set_status(Status(StatusCode.OK))
    otel_span.end()


def get_current_active_span() -> LiveSpan | None:
    span = otel_trace.get_current_span()
    return LiveSpan(span) if span.is_recording() else None


def update_current_trace(
    *,
    tags: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
    user: str | None = None,
    session: str | None = None,
    request_id: str | None = None,
    client_request_id: str | None = None,
) -> None:
    """Adds tags and metadata to the trace being recorded (user, session and request id are
    metadata under MLflow's keys) and sets its `client_request_id` (the caller's own id for
    the request, searchable as `client_request_id = '...'`). Does nothing outside a trace."""
    span = otel_trace.get_current_span()
    open_trace = _tracing.processor.open_trace(span.get_span_context().trace_id)
    if open_trace is None:
        return
    open_trace.tags.update({str(k): str(v) for k, v in (tags or {}).items()})
    open_trace.metadata.update({str(k): str(v) for k, v in (metadata or {}).items()})
    for key, value in ((reserved.TRACE_USER, user), (reserved.TRACE_SESSION, session),
                       (reserved.TRACE_CLIENT_REQUEST_ID, request_id)):  # fmt: skip
        if value is not None:
            open_trace.metadata[key] = str(value)
    if client_request_id is not None:
        open_trace.client_request_id = str(client_request_id)


def get_last_active_trace_id() -> str | None:
    """The id of the last trace whose root span ended in this process."""
    return _tracing.processor.last_trace_id


def flush(timeout_s: float | None = None) -> bool:
    """Waits until every finished trace has been sent (or counted lost); False on timeout."""
    return _tracing.exporter.flush(timeout_s)


flush_trace_async_logging = flush


def export_stats() -> ExportStats:
    """How many traces were exported and how many were lost (queue full, send failed)."""
    return _tracing.exporter.stats
