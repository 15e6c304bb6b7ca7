"""Many small files in one request body: the format of Heron's batch upload.

MLflow's proxy takes one PUT a file, which makes a directory of small files cost one round
trip each. Heron's SDK sends them in batches to `PUT /api/2.0/heron/artifacts/batch/<dir>`,
whose body is records back to back, one a file:

    path length   2 bytes, big-endian (at most MAX_PATH_BYTES)
    path          UTF-8, relative to <dir>; the server checks it like any artifact path
    size          8 bytes, big-endian
    sha-256       32 bytes, the digest of the content
    content       `size` bytes

Each file is checked (size and digest) as it is written and committed only when it is whole,
so a body cut short or corrupted keeps the files before the break and nothing of the broken one.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Iterable, Iterator

from heron import integrity
from heron.errors import InvalidParameter

MAX_PATH_BYTES = 4096
FILE_BYTES = 1 << 20  # files up to this size travel in batches; bigger ones alone
BODY_BYTES = 1 << 20  # a batch's files add up to at most this
_HEAD = struct.Struct(">Q32s")


def record_header(path: str, content: bytes) -> bytes:
    """What goes before `content` in a batch body."""
    name = path.encode()
    if len(name) > MAX_PATH_BYTES:
        raise InvalidParameter(f"Artifact path {path[:80]!r}... is longer than {MAX_PATH_BYTES}")
    digest = hashlib.sha256(content).digest()
    return len(name).to_bytes(2, "big") + name + _HEAD.pack(len(content), digest)


def records(chunks: Iterable[bytes]) -> Iterator[tuple[str, Iterator[bytes]]]:
    """(path, its content in pieces) for each record of a body arriving as `chunks`.

    The content of one record must be read to its end before the next record is asked for;
    it raises InvalidParameter at its end when its size or digest is wrong.

    Raises:
        InvalidParameter: a header that is cut short or cannot be read.
    """
    reader = _Reader(iter(chunks))
    while not reader.at_end():
        name_bytes = int.from_bytes(reader.exactly(2), "big")
        if name_bytes > MAX_PATH_BYTES:
            raise InvalidParameter(
                f"A batch upload names a file longer than {MAX_PATH_BYTES} bytes"
            )
        raw_name = reader.exactly(name_bytes)
        head = reader.exactly(_HEAD.size)
        size, digest = _HEAD.unpack(head)
        try:
            path = raw_name.decode()
        except UnicodeDecodeError:
            raise InvalidParameter(
                "A batch upload names a file in bytes that are not UTF-8"
            ) from None
        content = integrity.verified(reader.pieces(size), length=size, digests={"sha256": digest})
        yield path, content


class _Reader:
    """Exact reads from a stream of pieces of any size."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = memoryview(b"")

    def _fill(self) -> bool:
        for chunk in self._chunks:
            if chunk:
                self._buffer = memoryview(chunk)
                return True
        return False

    def at_end(self) -> bool:
        return not self._buffer and not self._fill()

    def exactly(self, size: int) -> bytes:
        parts: list[bytes] = []
        wanted = size
        while wanted:
            if not self._buffer and not self._fill():
                raise InvalidParameter(
                    "The batch upload was cut short inside a record header; send it again"
                )
            part = self._buffer[:wanted]
            self._buffer = self._buffer[len(part) :]
            parts.append(bytes(part))
            wanted -= len(part)
        return b"".join(parts)

    def pieces(self, size: int) -> Iterator[bytes]:
        """The next `size` bytes in pieces; stops early when the body ends (the size check
        that follows reports it)."""
        left = size
        while left:
            if not self._buffer and not self._fill():
                return
            part = self._buffer[:left]
            self._buffer = self._buffer[len(part) :]
            left -= len(part)
            yield bytes(part)
