"""The scoring server's ASGI app: MLflow's `/invocations`, `/ping`, `/health`, `/version`,
and `/metrics`.

A plain ASGI callable rather than a framework's router: five fixed routes, and each
microsecond of a one-row request is overhead on the model's own time. The event loop only
reads, parses and answers; models run in the batcher's threads.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from heron.errors import HeronError
from heron.serving import protocol
from heron.serving.batching import Batcher, Overloaded
from heron.serving.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from heron.serving.metrics import ServingMetrics
from heron.serving.scoring import (
    TRACE_HEADER,
    Job,
    Outcome,
    Scorer,
    batch_key,
    error_outcome,
)

_log = logging.getLogger("heron.serving")

# MLflow compat: the scoring server's /version is the MLflow release whose protocol it
# speaks (clients compare it as an MLflow version).
MLFLOW_VERSION = "3.17.2"

_PING = Outcome(200, b"\n")
_STATUS_OF_CODE = {"BAD_REQUEST": 400, "INVALID_PARAMETER_VALUE": 400}

Scope = dict[str, Any]


class ScoringApp:
    """Serves one loaded model.

    Args:
        scorer: the model and how to score it.
        batcher: the queue and threads that run `scorer`.
        timeout_s: a request not answered by then gets 504.
        max_request_bytes: a bigger body gets 413.
    """

    def __init__(
        self,
        scorer: Scorer,
        batcher: Batcher,
        metrics: ServingMetrics,
        *,
        timeout_s: float = 60.0,
        max_request_bytes: int = 100 * 1024 * 1024,
    ) -> None:
        self.scorer = scorer
        self.batcher = batcher
        self.metrics = metrics
        self.timeout_s = timeout_s
        self.max_request_bytes = max_request_bytes

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/invocations":
            if method != "POST":
                await _send(send, _method_not_allowed("POST"))
                return
            started = time.perf_counter()
            outcome = await self._invocations(scope, receive)
            if isinstance(outcome, _Stream):
                outcome = await self._send_stream(send, outcome)
            else:
                await _send(send, outcome)
            self.metrics.observe_request(outcome.status, time.perf_counter() - started)
        elif path in ("/ping", "/health", "/version", "/metrics"):
            if method not in ("GET", "HEAD"):
                await _send(send, _method_not_allowed("GET"))
            elif path == "/version":
                await _send(send, Outcome(200, MLFLOW_VERSION.encode()))
            elif path == "/metrics":
                exposition = self.metrics.exposition()
                await _send(send, Outcome(200, exposition, METRICS_CONTENT_TYPE))
            else:
                await _send(send, _PING)
        else:
            await _send(send, Outcome(404, b"Not Found", "text/plain"))

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.batcher.close)
                if self.scorer.tracing:
                    from heron.tracing.fluent import flush

                    await asyncio.to_thread(flush, 10.0)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _invocations(self, scope: Scope, receive: Any) -> Outcome | _Stream:
        content_type = _header(scope, b"content-type")
        try:
            mime = protocol.media_type(content_type)
        except protocol.UnsupportedMediaType as exc:
            # MLflow compat: a 415 answers its message as plain text.
            return Outcome(415, str(exc).encode(), "text/plain")
        body = await _read_body(receive, self.max_request_bytes)
        if body is None:
            return error_outcome(
                "INVALID_PARAMETER_VALUE",
                f"The request body is larger than {self.max_request_bytes} bytes",
                413,
            )
        try:
            request = self._parse(body, mime)
        except HeronError as exc:
            return error_outcome(exc.code, exc.message, _STATUS_OF_CODE.get(exc.code, 400))
        request.request_id = _header(scope, b"x-request-id")
        return await self._score(request)

    def _parse(self, body: bytes, mime: str) -> protocol.Request:
        if mime == protocol.CONTENT_TYPE_JSON:
            return protocol.parse_json(body, self.scorer.param_names)
        # CSV and Parquet are read in the worker thread, off the event loop.
        return protocol.Request("csv" if mime == protocol.CONTENT_TYPE_CSV else "parquet", body)

    async def _score(self, request: protocol.Request) -> Outcome | _Stream:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome] = loop.create_future()

        def done(outcome: Outcome) -> None:
            loop.call_soon_threadsafe(_resolve, future, outcome)

        key, rows = batch_key(request) if self.scorer.batching else (None, 1)
        job = Job(request, done, rows=rows, key=key)
        stream = None
        if request.stream:
            stream = _Stream(job, future, asyncio.Queue())
            chunks = stream.chunks

            def emit(chunk: bytes) -> None:
                loop.call_soon_threadsafe(chunks.put_nowait, chunk)

            job.emit = emit
            future.add_done_callback(lambda _: stream.chunks.put_nowait(None))
        try:
            self.batcher.submit(job)
        except Overloaded as exc:
            self.metrics.rejected.inc()
            outcome = error_outcome(
                "REQUEST_LIMIT_EXCEEDED",
                f"The server cannot answer within its latency bound of "
                f"{self.batcher.max_latency_s} s now (estimated {exc.estimate_s:.2f} s): "
                f"retry after {exc.retry_after_s} s",
                429,
            )
            return Outcome(429, outcome.body, headers=(("retry-after", str(exc.retry_after_s)),))
        try:
            if stream is not None:  # answered once the first chunk (or the error) is there
                await asyncio.wait_for(stream.first(), self.timeout_s)
                ended = None if stream.started else future.result()
                return stream if ended is None or ended.status == 200 else ended
            return await asyncio.wait_for(asyncio.shield(future), self.timeout_s)
        except TimeoutError:
            job.cancelled = True
            return error_outcome(
                "DEADLINE_EXCEEDED",
                f"Request processing time exceeded limit ({self.timeout_s:g} s)",
                504,
            )

    async def _send_stream(self, send: Any, stream: _Stream) -> Outcome:
        """Sends the chunks as server-sent events (`data: <json>`), then `data: [DONE]`."""
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        if stream.job.trace_id:
            headers.append((TRACE_HEADER.encode(), stream.job.trace_id.encode()))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        chunk = stream.head
        try:
            while chunk is not None:
                await send({"type": "http.response.body", "body": b"data: " + chunk + b"\n\n",
                            "more_body": True})  # fmt: skip
                chunk = await stream.chunks.get()
        except OSError:  # the client went away
            stream.job.cancelled = True
            raise
        await send({"type": "http.response.body", "body": b"data: [DONE]\n\n"})
        return Outcome(200, b"")


@dataclass(slots=True)
class _Stream:
    """A streaming request in flight: chunks arrive on `chunks`, None after the last."""

    job: Job
    future: asyncio.Future[Outcome]
    chunks: asyncio.Queue[bytes | None]
    head: bytes | None = None  # the first chunk, once it is there

    @property
    def started(self) -> bool:
        return self.head is not None

    async def first(self) -> None:
        """Waits for the first chunk (`head`) or the end without one."""
        self.head = await self.chunks.get()
        if self.head is None:
            await self.future


def _resolve(future: asyncio.Future[Outcome], outcome: Outcome) -> None:
    if not future.done():
        future.set_result(outcome)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _read_body(receive: Any, limit: int) -> bytes | None:
    """The whole body, or None once it passes `limit` bytes."""
    message = await receive()
    body: bytes = message.get("body", b"")
    if not message.get("more_body", False):
        return body if len(body) <= limit else None
    parts = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)


def _method_not_allowed(allowed: str) -> Outcome:
    return Outcome(405, b"Method Not Allowed", "text/plain", (("allow", allowed),))


async def _send(send: Any, outcome: Outcome) -> None:
    headers = [
        (b"content-type", outcome.media_type.encode()),
        (b"content-length", str(len(outcome.body)).encode()),
    ]
    headers.extend((k.encode(), v.encode()) for k, v in outcome.headers)
    await send({"type": "http.response.start", "status": outcome.status, "headers": headers})
    await send({"type": "http.response.body", "body": outcome.body})
