"""Streamed OpenAI answers: a wrapper that hands every chunk to the caller unchanged and, when
the stream ends (exhausted, closed or failed), ends the span with the chunks aggregated into
one answer shaped like the non-streamed one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from heron.tracing.tracer import LiveSpan

Aggregate = Callable[[list[Any]], Any]  # chunks -> the answer object recorded as outputs


def plain(value: Any) -> Any:
    """A JSON-ready copy: pydantic models (the client's types) dumped, containers walked."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        try:
            return dump(mode="json", exclude_none=True)
        except Exception:  # noqa: S110 (an odd model is recorded as text below)
            pass
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def chat_chunks(chunks: list[Any]) -> dict[str, Any]:
    """ChatCompletionChunks as one chat.completion: text and tool-call arguments joined."""
    choices: dict[int, dict[str, Any]] = {}
    answer: dict[str, Any] = {"object": "chat.completion"}
    for chunk in chunks:
        answer.setdefault("id", getattr(chunk, "id", None))
        answer.setdefault("model", getattr(chunk, "model", None))
        answer.setdefault("created", getattr(chunk, "created", None))
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            answer["usage"] = plain(usage)
        for choice in getattr(chunk, "choices", None) or ():
            slot = choices.setdefault(
                choice.index,
                {"index": choice.index, "message": {"role": "assistant", "content": ""}},
            )
            delta = choice.delta
            if delta is not None:
                _merge_delta(slot["message"], delta)
            if choice.finish_reason is not None:
                slot["finish_reason"] = choice.finish_reason
    answer["choices"] = [choices[i] for i in sorted(choices)]
    return answer


def _merge_delta(message: dict[str, Any], delta: Any) -> None:
    if getattr(delta, "role", None):
        message["role"] = delta.role
    if getattr(delta, "content", None):
        message["content"] += delta.content
    for call in getattr(delta, "tool_calls", None) or ():
        calls = message.setdefault("tool_calls", [])
        while len(calls) <= call.index:
            calls.append({"type": "function", "function": {"name": "", "arguments": ""}})
        slot = calls[call.index]
        if call.id:
            slot["id"] = call.id
        if call.function is not None:
            slot["function"]["name"] += call.function.name or ""
            slot["function"]["arguments"] += call.function.arguments or ""


def completion_chunks(chunks: list[Any]) -> dict[str, Any]:
    """Legacy text completions streamed: each choice's text joined."""
    texts: dict[int, str] = {}
    answer: dict[str, Any] = {"object": "text_completion"}
    for chunk in chunks:
        answer.setdefault("id", getattr(chunk, "id", None))
        answer.setdefault("model", getattr(chunk, "model", None))
        if getattr(chunk, "usage", None) is not None:
            answer["usage"] = plain(chunk.usage)
        for choice in getattr(chunk, "choices", None) or ():
            texts[choice.index] = texts.get(choice.index, "") + (choice.text or "")
    answer["choices"] = [{"index": i, "text": texts[i]} for i in sorted(texts)]
    return answer


def response_events(events: list[Any]) -> Any:
    """Responses API events: the final response when the stream completed, else the text
    deltas joined."""
    for event in reversed(events):
        if getattr(event, "type", "") in ("response.completed", "response.incomplete"):
            return plain(event.response)
    return {
        "output_text": "".join(
            getattr(e, "delta", "") or ""
            for e in events
            if getattr(e, "type", "") == "response.output_text.delta"
        )
    }


class _Recorder:
    """The chunks seen so far and the span to end once."""

    def __init__(self, span: LiveSpan, aggregate: Aggregate, on_done: Callable[[Any], None]):
        self.span = span
        self.aggregate = aggregate
        self.on_done = on_done
        self.chunks: list[Any] = []
        self.done = False

    def seen(self, chunk: Any) -> Any:
        self.chunks.append(chunk)
        return chunk

    def end(self, error: BaseException | None = None) -> None:
        """Ends the span once: ERROR when the stream failed (running out is no error)."""
        if self.done:
            return
        self.done = True
        try:
            if error is not None and not isinstance(error, StopIteration | StopAsyncIteration):
                self.span.record_exception(error)
            answer = self.aggregate(self.chunks)
            self.span.set_outputs(answer)
            self.on_done(answer)
        except Exception:  # noqa: S110 (tracing never breaks the stream)
            pass
        self.span.finish()


class _Proxy:
    """Forwards what it does not define to the client's stream object; ends the span when the
    caller drops the stream unfinished."""

    def __init__(self, stream: Any, recorder: _Recorder) -> None:
        self._stream = stream
        self._rec = recorder

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._stream, name)

    def __del__(self) -> None:
        recorder = self.__dict__.get("_rec")
        if recorder is not None:
            recorder.end()


class TracedStream(_Proxy):
    """A sync `Stream` as the caller sees it, recording what passes through."""

    def __init__(self, stream: Any, recorder: _Recorder) -> None:
        super().__init__(stream, recorder)
        self._iter = iter(stream)

    def __iter__(self) -> TracedStream:
        return self

    def __next__(self) -> Any:
        try:
            return self._rec.seen(next(self._iter))
        except BaseException as exc:
            self._rec.end(exc)
            raise

    def __enter__(self) -> TracedStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self._stream.close()
        finally:
            self._rec.end()


class AsyncTracedStream(_Proxy):
    """An `AsyncStream` as the caller sees it, recording what passes through."""

    def __init__(self, stream: Any, recorder: _Recorder) -> None:
        super().__init__(stream, recorder)
        self._iter = stream.__aiter__()

    def __aiter__(self) -> AsyncTracedStream:
        return self

    async def __anext__(self) -> Any:
        try:
            return self._rec.seen(await self._iter.__anext__())
        except BaseException as exc:
            self._rec.end(exc)
            raise

    async def __aenter__(self) -> AsyncTracedStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        try:
            await self._stream.close()
        finally:
            self._rec.end()


def wrap_stream(
    stream: Any, span: LiveSpan, aggregate: Aggregate, on_done: Callable[[Any], None]
) -> Any:
    recorder = _Recorder(span, aggregate, on_done)
    if hasattr(stream, "__aiter__"):
        return AsyncTracedStream(stream, recorder)
    return TracedStream(stream, recorder)
