"""Stored files as HTTP responses: streamed, with their size announced."""

from __future__ import annotations

import urllib.parse
from collections.abc import AsyncIterator

from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from heron.store.artifacts import FileStream


def file_response(
    stream: FileStream, *, media_type: str, headers: dict[str, str]
) -> StreamingResponse:
    """Sends `stream` with its Content-Length (not chunked: a client knows what to expect,
    and uvicorn sends each chunk as it is rather than joined to a chunk header)."""
    headers = {**headers, "Content-Length": str(stream.size)}
    return StreamingResponse(_chunks(stream), media_type=media_type, headers=headers)


def attachment(name: str) -> str:
    """A Content-Disposition that saves the file as `name` (RFC 6266; RFC 5987 encoding when
    the name is not plain ASCII)."""
    quoted = urllib.parse.quote(name)
    if quoted == name:
        return f'attachment; filename="{name}"'
    return f"attachment; filename*=utf-8''{quoted}"


async def _chunks(stream: FileStream) -> AsyncIterator[bytes]:
    """Chunks in memory already are read on the event loop, the others in a worker thread:
    a hop to a thread and back for each MiB took about a fifth of a cached 1 GB download's
    time."""
    try:
        while True:
            chunk = stream.next_at_hand()
            if chunk is None:
                chunk = await run_in_threadpool(next, stream, b"")
            if not chunk:
                return
            yield chunk
    finally:
        stream.close()
