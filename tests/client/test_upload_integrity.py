"""The client announces each upload's SHA-256 (Content-Digest) so the server can refuse a
corrupted body; a stream that can be read only once goes without."""

from __future__ import annotations

import base64
import hashlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from heron.client.http import Transport


def _recorder() -> tuple[Starlette, list[tuple[str | None, bytes]]]:
    """A server that keeps each PUT's Content-Digest header and body."""
    seen: list[tuple[str | None, bytes]] = []

    async def put(request: Request) -> JSONResponse:
        seen.append((request.headers.get("content-digest"), await request.body()))
        return JSONResponse({})

    return Starlette(routes=[Route("/up/{name}", put, methods=["PUT"])]), seen


def _announced(body: bytes) -> str:
    return f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"


def test_files_and_bytes_carry_their_digest_and_streams_do_not(
    serve_app: Any, tmp_path: Path
) -> None:
    app, seen = _recorder()
    path = tmp_path / "weights.bin"
    path.write_bytes(b"w" * 3_000_000)

    def stream() -> Iterator[bytes]:
        yield b"once"

    with serve_app(app) as url:
        transport = Transport(url)
        with path.open("rb") as file:
            transport.upload("/up/file", file)
        transport.upload("/up/bytes", b"hello")
        transport.upload("/up/buffer", io.BytesIO(b"buffered"))
        transport.upload("/up/stream", stream())
        transport.close()

    file_body = b"w" * 3_000_000
    assert seen == [
        (_announced(file_body), file_body),
        (_announced(b"hello"), b"hello"),
        (_announced(b"buffered"), b"buffered"),
        (None, b"once"),
    ]
