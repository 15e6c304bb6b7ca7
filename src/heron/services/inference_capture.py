"""The capture of serving requests into the inference tables, off the request path.

The invocation route hands each sampled exchange (`Exchange`: bytes as they passed) to
`CaptureWriter.put`, which only appends it to a bounded queue; a thread turns them into
records (bodies over the inline limit go to the artifact store, streamed answers are kept as
chunks and merged) and inserts them in batches, and writes the per-minute statistics. When
the queue is full an exchange is dropped and counted (in the minute's `capture_dropped`),
never blocking the request. `close()` writes everything still queued before it returns."""

from __future__ import annotations

import collections
import itertools
import logging
import threading
import time
from dataclasses import dataclass, field

import orjson

from heron.entities.serving import InferenceRecord, utc_date
from heron.services.artifacts import PROXY_ROOT, ArtifactService
from heron.services.serving_stats import MinuteStats
from heron.store.serving import InferenceStore

_log = logging.getLogger("heron.serving.capture")

INLINE_LIMIT = 1 << 20  # bodies up to 1 MiB stay in their column; bigger ones are artifacts
BATCH = 500
STATS_INTERVAL_S = 2.0


@dataclass(slots=True, kw_only=True)
class Exchange:
    """One request and its answer as the invocation route saw them."""

    request_id: str
    endpoint_id: str
    endpoint_name: str
    request_time: int  # ms since epoch
    status_code: int
    execution_duration_ms: int
    served_entity: str
    served_version: str
    requester: str
    request: bytes
    response: bytes
    chunks: list[bytes] | None = None  # the events of a streamed answer (their JSON texts)
    client_request_id: str | None = None
    trace_id: str | None = None
    error_codes: list[str] = field(default_factory=list)


class CaptureWriter:
    def __init__(
        self,
        store: InferenceStore,
        artifacts: ArtifactService | None,
        stats: MinuteStats,
        *,
        queue_limit: int = 20_000,
        flush_interval_s: float = 0.2,
        writer_id: str,
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self._stats = stats
        self._queue: collections.deque[Exchange] = collections.deque()
        self._limit = queue_limit
        self._interval = flush_interval_s
        self._writer_id = writer_id
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_stats = 0.0
        self._lock = threading.Lock()  # one flush at a time (the thread's, or close's)
        self.dropped = 0

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="heron-capture", daemon=True)
            self._thread.start()

    def put(self, exchange: Exchange) -> bool:
        """Queues `exchange`; False (and counted) when the queue is full."""
        if len(self._queue) >= self._limit:
            self.dropped += 1
            self._stats.dropped(exchange.endpoint_id, exchange.request_time)
            return False
        self._queue.append(exchange)
        if len(self._queue) >= BATCH:
            self._wake.set()
        return True

    def flush(self) -> None:
        """Writes every queued exchange and the statistics now."""
        with self._lock:
            while self._queue:
                self._write_batch()
            self._write_stats()

    def close(self) -> None:
        """Stops the thread once everything queued is written."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                with self._lock:
                    while self._queue:
                        self._write_batch()
                    if time.monotonic() - self._last_stats >= STATS_INTERVAL_S:
                        self._write_stats()
            except Exception:  # the database is away: keep what is queued, try again
                _log.exception("Writing captured requests failed; retrying")
                self._stop.wait(1.0)

    def _write_batch(self) -> None:
        batch = list(itertools.islice(self._queue, BATCH))
        records = [self._record(x) for x in batch]
        self._store.add_records(records)
        for _ in batch:  # acknowledged by the store: only now do they leave the queue
            self._queue.popleft()

    def _write_stats(self) -> None:
        self._last_stats = time.monotonic()
        minutes = self._stats.changed(int(time.time() * 1000))
        try:
            self._store.put_minutes(self._writer_id, minutes)
        except Exception:
            self._stats.unwritten(minutes)
            raise

    def _record(self, x: Exchange) -> InferenceRecord:
        codes = list(x.error_codes)
        request, request_artifact = self._body(x, "request", x.request, codes)
        chunks_text = None
        response_bytes = x.response
        if x.chunks is not None:
            chunks_text, response_bytes = merged_chunks(x.chunks)
        response, response_artifact = self._body(x, "response", response_bytes, codes)
        return InferenceRecord(
            request_id=x.request_id,
            endpoint_id=x.endpoint_id,
            endpoint_name=x.endpoint_name,
            request_time=x.request_time,
            status_code=x.status_code,
            execution_duration_ms=x.execution_duration_ms,
            served_entity_id=x.served_entity,
            served_version=x.served_version,
            requester=x.requester,
            client_request_id=x.client_request_id,
            request=request,
            response=response,
            response_chunks=chunks_text,
            request_artifact=request_artifact,
            response_artifact=response_artifact,
            logging_error_codes=codes,
            trace_id=x.trace_id,
        )

    def _body(
        self, x: Exchange, part: str, body: bytes, codes: list[str]
    ) -> tuple[str | None, str | None]:
        """(the column's text, or the artifact path when the body is kept as a file)."""
        if len(body) <= INLINE_LIMIT:
            try:
                return body.decode(), None
            except UnicodeDecodeError:
                pass  # a binary body (Parquet): kept as a file
        if self._artifacts is None:
            codes.append(f"{part.upper()}_NOT_KEPT")
            return None, None
        path = f"serving/{x.endpoint_id}/{utc_date(x.request_time)}/{x.request_id}/{part}"
        try:
            self._artifacts.write_artifact(PROXY_ROOT, path, [body])
        except Exception:
            _log.exception("Keeping a captured %s body as an artifact failed", part)
            codes.append(f"{part.upper()}_ARTIFACT_FAILED")
            return None, None
        return None, path


def merged_chunks(chunks: list[bytes]) -> tuple[str, bytes]:
    """(the chunks as a JSON array, their merge): the text of OpenAI chat-completion chunks'
    deltas joined into one chat completion; any other chunks as the array itself."""
    try:
        values = [orjson.loads(c) for c in chunks]
    except orjson.JSONDecodeError:
        text = orjson.dumps([c.decode(errors="replace") for c in chunks])
        return text.decode(), text
    array = orjson.dumps(values)
    if values and all(_is_chat_chunk(v) for v in values):
        return array.decode(), orjson.dumps(_merged_chat(values))
    return array.decode(), array


def _is_chat_chunk(value: object) -> bool:
    return isinstance(value, dict) and isinstance(value.get("choices"), list)


def _merged_chat(values: list[dict[str, object]]) -> dict[str, object]:
    texts: dict[int, list[str]] = {}
    roles: dict[int, str] = {}
    finish: dict[int, object] = {}
    for value in values:
        for choice in value["choices"]:  # type: ignore[attr-defined]
            if not isinstance(choice, dict):
                continue
            index = choice.get("index", 0)
            delta = choice.get("delta") or choice.get("message") or {}
            if isinstance(delta, dict):
                if isinstance(delta.get("content"), str):
                    texts.setdefault(index, []).append(delta["content"])
                if isinstance(delta.get("role"), str):
                    roles[index] = delta["role"]
            if choice.get("finish_reason") is not None:
                finish[index] = choice["finish_reason"]
    first = values[0]
    return {
        "id": first.get("id"),
        "object": "chat.completion",
        "created": first.get("created"),
        "model": first.get("model"),
        "choices": [
            {
                "index": i,
                "message": {
                    "role": roles.get(i, "assistant"),
                    "content": "".join(texts.get(i, [])),
                },
                "finish_reason": finish.get(i),
            }
            for i in sorted(set(texts) | set(roles) | set(finish))
        ],
    }
