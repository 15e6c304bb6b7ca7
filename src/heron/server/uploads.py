"""Request bodies streamed to a worker thread, checked against their Content-Length and
digest headers on the way (the artifact proxy's uploads)."""

from __future__ import annotations

import asyncio
import queue
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from heron import integrity

UPLOAD_BATCH_BYTES = 1 << 20  # request body handed to the writer thread in batches this big
_READ_AHEAD = 4  # batches received ahead of the writer thread
T = TypeVar("T")

# What consumes a body: its pieces, the announced length (None when not announced) and the
# announced digests (hashlib name -> digest).
Consumer = Callable[[Iterator[bytes], int | None, Mapping[str, bytes]], T]


async def in_thread_with_body(request: Request, consume: Consumer[T]) -> T:
    """Runs `consume` in a worker thread on the request's body, with the Content-Length and
    the digests (Content-Digest, Content-MD5) the request announces, for it to check.

    A small body is read at once: one hand-off to the thread. A large one is received on the
    event loop up to _READ_AHEAD batches of ~1 MiB ahead of the thread, so receiving the next
    batch overlaps writing (and hashing) the last one."""
    length = _content_length(request)
    digests = integrity.expected_digests(request.headers)
    if length is not None and length <= UPLOAD_BATCH_BYTES:
        body = iter((await request.body(),))
        return await run_in_threadpool(consume, body, length, digests)
    pipe = _BodyPipe()
    receiving = asyncio.ensure_future(pipe.fill(request.stream()))
    try:
        return await run_in_threadpool(consume, pipe.pieces(), length, digests)
    finally:
        receiving.cancel()  # done already, unless `consume` stopped early


class _BodyPipe:
    """A request body passed from the event loop (fill) to a worker thread (pieces) in
    batches of ~1 MiB of uvicorn's pieces (not joined: that would copy every byte once more),
    at most _READ_AHEAD batches waiting. A failure to receive (the client went away) is
    raised in the thread."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._room = asyncio.Semaphore(_READ_AHEAD)
        self._queue: queue.SimpleQueue[list[bytes] | Exception | None] = queue.SimpleQueue()

    async def fill(self, stream: AsyncIterator[bytes]) -> None:
        try:
            pieces: list[bytes] = []
            size = 0
            async for piece in stream:
                pieces.append(piece)
                size += len(piece)
                if size >= UPLOAD_BATCH_BYTES:
                    await self._put(pieces)
                    pieces, size = [], 0
            if pieces:
                await self._put(pieces)
            self._queue.put(None)
        except Exception as exc:  # handed to the thread, which raises it
            self._queue.put(exc)

    async def _put(self, pieces: list[bytes]) -> None:
        await self._room.acquire()
        self._queue.put(pieces)

    def pieces(self) -> Iterator[bytes]:
        while (batch := self._queue.get()) is not None:
            if isinstance(batch, Exception):
                raise batch
            self._loop.call_soon_threadsafe(self._room.release)
            yield from batch


def _content_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value and value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None
