"""Automatic tracing of the `openai` Python client: `heron.openai.autolog()`.

Every chat completion, response, embedding and (legacy) text completion made through the
client, sync or async, streamed or not, becomes a span (CHAT_MODEL, EMBEDDING or LLM) under
whatever span is current, with the call's arguments as inputs, the answer as outputs (streamed
chunks aggregated into one answer), the model, the token usage and, given a price table, the
cost. A failing call records an ERROR span and the client's own exception reaches the caller
unchanged; a tracing failure never reaches it at all."""

from __future__ import annotations

import functools
import importlib
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from heron.entities import reserved
from heron.entities.trace import SpanType
from heron.tracing.fluent import begin_span
from heron.tracing.openai_streams import (
    Aggregate,
    chat_chunks,
    completion_chunks,
    plain,
    response_events,
    wrap_stream,
)
from heron.tracing.tracer import LiveSpan

log = logging.getLogger("heron.tracing")


Prices = Mapping[str, tuple[float, float]]  # model -> USD per million (input, output) tokens


@dataclass(frozen=True)
class _Target:
    """One patched method: where it lives, the span it records, how its streams aggregate."""

    module: str
    cls: str
    span_type: str
    aggregate: Aggregate


_TARGETS = (
    _Target("openai.resources.chat.completions", "Completions", SpanType.CHAT_MODEL, chat_chunks),
    _Target("openai.resources.chat.completions", "AsyncCompletions", SpanType.CHAT_MODEL,
            chat_chunks),
    _Target("openai.resources.responses", "Responses", SpanType.CHAT_MODEL, response_events),
    _Target("openai.resources.responses", "AsyncResponses", SpanType.CHAT_MODEL,
            response_events),
    _Target("openai.resources.embeddings", "Embeddings", SpanType.EMBEDDING, list),
    _Target("openai.resources.embeddings", "AsyncEmbeddings", SpanType.EMBEDDING, list),
    _Target("openai.resources.completions", "Completions", SpanType.LLM, completion_chunks),
    _Target("openai.resources.completions", "AsyncCompletions", SpanType.LLM,
            completion_chunks),
)  # fmt: skip


class _State:
    def __init__(self) -> None:
        self.originals: dict[tuple[str, str], Callable[..., Any]] = {}
        self.prices: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()


_state = _State()


def autolog(*, disable: bool = False, prices: Prices | None = None) -> None:
    """Traces every call the `openai` client makes from now on (`disable=True` undoes it).

    `prices` maps a model name (or its prefix: "gpt-4o" prices "gpt-4o-2024-08-06") to USD per
    million input and output tokens; spans of those models then carry their cost.

    Example:
        >>> heron.openai.autolog(prices={"gpt-4o-mini": (0.15, 0.60)})
        >>> openai.OpenAI().chat.completions.create(model="gpt-4o-mini", messages=[...])
    """
    with _state.lock:
        if disable:
            _unpatch()
            return
        _state.prices = {str(k): (float(v[0]), float(v[1])) for k, v in (prices or {}).items()}
        for target in _TARGETS:
            _patch(target)


def _patch(target: _Target) -> None:
    key = (target.module, target.cls)
    if key in _state.originals:
        return
    try:
        cls = getattr(importlib.import_module(target.module), target.cls)
    except (ImportError, AttributeError):  # an older client without this resource
        return
    original = cls.create
    _state.originals[key] = original
    if target.cls.startswith("Async"):
        setattr(cls, "create", _async_wrapper(original, target))  # noqa: B010
    else:
        setattr(cls, "create", _sync_wrapper(original, target))  # noqa: B010


def _unpatch() -> None:
    for (module, cls_name), original in _state.originals.items():
        setattr(getattr(importlib.import_module(module), cls_name), "create", original)  # noqa: B010
    _state.originals.clear()


def _sync_wrapper(original: Callable[..., Any], target: _Target) -> Callable[..., Any]:
    @functools.wraps(original)
    def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        span = _begin(target, kwargs)
        try:
            result = original(self, *args, **kwargs)
        except BaseException as exc:
            _fail(span, exc)
            raise
        return _record(span, target, kwargs, result)

    return create


def _async_wrapper(original: Callable[..., Any], target: _Target) -> Callable[..., Any]:
    @functools.wraps(original)
    async def create(self: Any, *args: Any, **kwargs: Any) -> Any:
        span = _begin(target, kwargs)
        try:
            result = await original(self, *args, **kwargs)
        except BaseException as exc:
            _fail(span, exc)
            raise
        return _record(span, target, kwargs, result)

    return create


# -- what a span records (every function here swallows its own failures) ---------------------


def _begin(target: _Target, kwargs: dict[str, Any]) -> LiveSpan:
    span = begin_span(target.cls, target.span_type)
    try:
        span.set_inputs(_inputs(kwargs))
        span.set_attribute(reserved.LLM_PROVIDER, "openai")
        span.set_attribute(reserved.MESSAGE_FORMAT, "openai")
        if isinstance(kwargs.get("model"), str):
            span.set_attribute(reserved.LLM_MODEL, kwargs["model"])
    except Exception as exc:
        log.debug("Heron tracing: openai inputs not recorded: %s", exc)
    return span


def _inputs(kwargs: dict[str, Any]) -> dict[str, Any]:
    """The call's arguments without the client's "not given" markers and transport options."""
    skip = ("extra_headers", "extra_query", "timeout")
    return {
        k: plain(v)
        for k, v in kwargs.items()
        if k not in skip and type(v).__name__ not in ("NotGiven", "Omit")
    }


def _fail(span: LiveSpan, exc: BaseException) -> None:
    span.record_exception(exc)
    span.finish()


def _record(span: LiveSpan, target: _Target, kwargs: dict[str, Any], result: Any) -> Any:
    """Records a whole answer and ends the span, or wraps a stream that will."""
    try:
        if kwargs.get("stream") is True or _is_stream(result):
            return wrap_stream(
                result, span, target.aggregate, lambda answer: _annotate(span, answer)
            )
        answer = plain(result)
        span.set_outputs(answer)
        _annotate(span, answer)
    except Exception as exc:
        log.debug("Heron tracing: openai answer not recorded: %s", exc)
    span.finish()
    return result


def _is_stream(result: Any) -> bool:
    return type(result).__name__ in ("Stream", "AsyncStream")


def _annotate(span: LiveSpan, answer: Any) -> None:
    """Model, token usage and cost from an answer (a dict, as `plain` makes it)."""
    if not isinstance(answer, Mapping):
        return
    model = answer.get("model")
    if isinstance(model, str):
        span.set_attribute(reserved.LLM_MODEL, model)
    usage = _usage(answer.get("usage"))
    if usage is None:
        return
    span.set_attribute(reserved.CHAT_TOKEN_USAGE, usage)
    price = _price(model) if isinstance(model, str) else None
    if price is not None:
        input_cost = usage["input_tokens"] * price[0] / 1e6
        output_cost = usage["output_tokens"] * price[1] / 1e6
        span.set_attribute(
            reserved.LLM_COST,
            {"input_cost": input_cost, "output_cost": output_cost,
             "total_cost": input_cost + output_cost},
        )  # fmt: skip


def _usage(usage: Any) -> dict[str, int] | None:
    """Chat/embedding usage (prompt/completion tokens) or Responses usage (input/output)."""
    if not isinstance(usage, Mapping):
        return None
    inputs = usage.get("input_tokens", usage.get("prompt_tokens"))
    outputs = usage.get("output_tokens", usage.get("completion_tokens", 0))
    if not isinstance(inputs, int):
        return None
    outputs = outputs if isinstance(outputs, int) else 0
    total = usage.get("total_tokens")
    return {
        "input_tokens": inputs,
        "output_tokens": outputs,
        "total_tokens": total if isinstance(total, int) else inputs + outputs,
    }


def _price(model: str) -> tuple[float, float] | None:
    prices = _state.prices
    if model in prices:
        return prices[model]
    prefixes = [name for name in prices if model.startswith(name)]
    return prices[max(prefixes, key=len)] if prefixes else None
