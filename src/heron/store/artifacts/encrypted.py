"""EncryptedArtifactRepository: files encrypted before they reach the store (local or S3).

Each file gets its own AES-256 data key, wrapped by the customer-managed key
(`heron.store.crypto`), and is stored as

    header   1,024 bytes: a magic line, then JSON (algorithm, segment size, nonce prefix,
             the wrapping key's id and the wrapped data key), padded with spaces
    segments the plaintext in 1 MiB segments, each sealed with AES-256-GCM (its 16-byte tag
             after it); nonce = 8-byte random prefix + segment number, and the associated
             data binds the segment number and whether it is the last, so segments cannot
             be reordered, dropped or the file cut short without the tag check failing.

So a file of any size streams through in 1 MiB pieces, each segment can be read on its own
(a range read fetches the header and the segments the range covers, and decrypts only
those), and the stored size gives the plaintext size. A file without the magic line
(written before encryption was turned on) is read as it is."""

from __future__ import annotations

import base64
import secrets
import struct
from collections.abc import Callable, Iterable, Iterator

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from heron.entities import FileInfo, Page
from heron.errors import DataLoss, InvalidParameter
from heron.store.artifacts.ranges import ByteRange, ContentRange
from heron.store.artifacts.repository import ArtifactRepository, FileStream
from heron.store.crypto.envelope import DataKeys, open_key_provider

MAGIC = b"\x89HERON-AEAD/1\r\n\n"  # 16 bytes; never the start of a text file
HEADER = 1024
SEGMENT = 1 << 20
TAG = 16
_ALG = "AES-256-GCM"


def encryption(
    key_uri: str, *, cache_s: float
) -> Callable[[ArtifactRepository], ArtifactRepository]:
    """What wraps each repository in encryption with the key `key_uri` (checked now)."""
    keys = DataKeys(open_key_provider(key_uri), cache_s=cache_s)
    return lambda inner: EncryptedArtifactRepository(inner, keys)


def plaintext_size(stored: int) -> int:
    """The size of the plaintext of an encrypted file of `stored` bytes."""
    body = stored - HEADER
    if body < TAG:
        return stored  # too short to be encrypted: a plain file
    segments = -(-body // (SEGMENT + TAG))
    return body - TAG * segments


def _last_segment(stored: int) -> int:
    """The index of the last segment of an encrypted file of `stored` bytes."""
    return (stored - HEADER - 1) // (SEGMENT + TAG)


def _aad(index: int, final: bool) -> bytes:
    return b"heron-segment" + struct.pack(">QB", index, final)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def _header(data_key_id: str, wrapped: bytes, prefix: bytes) -> bytes:
    doc = {
        "alg": _ALG,
        "segment": SEGMENT,
        "nonce": base64.b64encode(prefix).decode(),
        "kid": data_key_id,
        "wk": base64.b64encode(wrapped).decode(),
    }
    text = MAGIC + orjson.dumps(doc)
    if len(text) > HEADER:
        raise InvalidParameter("The wrapped data key does not fit the header (key id too long?)")
    return text.ljust(HEADER, b" ")


def parse_header(header: bytes) -> tuple[str, bytes, bytes]:
    """(key id, wrapped data key, nonce prefix) of an encrypted file's first 1,024 bytes."""
    try:
        doc = orjson.loads(header[len(MAGIC) :].rstrip(b" "))
        if doc["alg"] != _ALG or doc["segment"] != SEGMENT:
            raise ValueError
        prefix = base64.b64decode(doc["nonce"], validate=True)
        if len(prefix) != 8:
            raise ValueError
        return str(doc["kid"]), base64.b64decode(doc["wk"], validate=True), prefix
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        raise DataLoss("An encrypted artifact's header is damaged") from None


class EncryptedArtifactRepository:
    """Wraps another repository: writes are encrypted, reads decrypted and authenticated."""

    def __init__(self, inner: ArtifactRepository, keys: DataKeys) -> None:
        self.inner = inner
        self.keys = keys

    def __repr__(self) -> str:
        return f"EncryptedArtifactRepository({self.inner!r})"

    def write(self, path: str, chunks: Iterable[bytes]) -> FileInfo:
        data_key = self.keys.new()
        prefix = secrets.token_bytes(8)
        sealed = _Sealed(AESGCM(data_key.key), prefix, chunks)
        header = _header(data_key.key_id, data_key.wrapped, prefix)
        info = self.inner.write(path, sealed.stream(header))
        return FileInfo(path=info.path, is_dir=False, file_size=sealed.size)

    def read(
        self, path: str, *, chunk_size: int = SEGMENT, byte_range: ByteRange | None = None
    ) -> FileStream:
        if byte_range is not None:
            return self._read_range(path, byte_range)
        raw = self.inner.read(path, chunk_size=SEGMENT + TAG)
        head, ended = _read_head(raw)
        if not head.startswith(MAGIC):
            return _Plain(raw, bytes(head), ended)
        aead, prefix = self._open(path, raw, head, raw.size)
        stored = raw.size
        return _Opened(raw, aead, prefix, head[HEADER:], path, _last_segment(stored))

    def _open(
        self, path: str, raw: FileStream, head: bytearray, stored: int
    ) -> tuple[AESGCM, bytes]:
        """The cipher and nonce prefix of an encrypted file, from its header (the key
        unwrapped); closes `raw` when it cannot be read."""
        try:
            if stored < HEADER + TAG or len(head) < HEADER:
                raise DataLoss(f"Encrypted artifact {path!r} is cut short")
            key_id, wrapped, prefix = parse_header(bytes(head[:HEADER]))
            return AESGCM(self.keys.unwrap(key_id, wrapped)), prefix
        except BaseException:
            raw.close()
            raise

    def _read_range(self, path: str, byte_range: ByteRange) -> FileStream:
        """Two reads of the stored file: its header (and size), then only the segments the
        range covers; each is authenticated before any of its bytes is served."""
        head_stream = self.inner.read(path, byte_range=ByteRange(0, HEADER - 1))
        head = bytearray(b"".join(head_stream))
        if not head.startswith(MAGIC):
            return self.inner.read(path, byte_range=byte_range)  # a plain file
        stored = _stored_size(head_stream)
        aead, prefix = self._open(path, head_stream, head, stored)
        size = plaintext_size(stored)
        start, stop = byte_range.within(size)
        first, last = start // SEGMENT, (stop - 1) // SEGMENT
        whole = SEGMENT + TAG
        sealed = ByteRange(HEADER + first * whole, min(stored, HEADER + (last + 1) * whole) - 1)
        raw = self.inner.read(path, chunk_size=whole, byte_range=sealed)
        return _Opened(
            raw,
            aead,
            prefix,
            bytearray(),
            path,
            _last_segment(stored),
            first=first,
            content_range=ContentRange(start, stop, size),
        )

    def rewrap(self, path: str) -> bool:
        """Wraps the file's data key again with the primary key (the contents are copied as
        they are, not decrypted); False when it is wrapped by the primary already, or plain.

        Raises:
            KeyUnavailable: the key that wrapped it is gone (the file stays as it was).
        """
        raw = self.inner.read(path, chunk_size=SEGMENT + TAG)
        head, _ = _read_head(raw)
        if not head.startswith(MAGIC) or len(head) < HEADER:
            raw.close()
            return False
        key_id, wrapped, prefix = parse_header(bytes(head[:HEADER]))
        primary = self.keys.provider.primary_key_id()
        if key_id == primary:
            raw.close()
            return False
        try:
            new_id, new_wrapped = self.keys.provider.wrap(self.keys.unwrap(key_id, wrapped))
        except BaseException:
            raw.close()
            raise

        def body() -> Iterator[bytes]:
            yield _header(new_id, new_wrapped, prefix)
            yield bytes(head[HEADER:])
            yield from raw

        self.inner.write(path, body())
        return True

    def list(
        self, path: str = "", *, max_results: int = 1000, page_token: str | None = None
    ) -> Page[FileInfo]:
        page = self.inner.list(path, max_results=max_results, page_token=page_token)
        items = [
            info
            if info.is_dir or info.file_size is None
            else FileInfo(path=info.path, is_dir=False, file_size=plaintext_size(info.file_size))
            for info in page.items
        ]
        return Page(items, page.next_page_token)

    def delete(self, path: str) -> None:
        self.inner.delete(path)


def _stored_size(stream: FileStream) -> int:
    return stream.size if stream.content_range is None else stream.content_range.total


def _read_head(raw: FileStream) -> tuple[bytearray, bool]:
    """At least the header's bytes of a stream (fewer only if the file is shorter), and
    whether the stream is at its end."""
    head = bytearray()
    while len(head) < HEADER:
        chunk = next(raw, b"")
        if not chunk:
            return head, True
        head += chunk
    return head, False


class _Sealed:
    """Re-cuts a stream of chunks into sealed segments, the last one marked."""

    def __init__(self, aead: AESGCM, prefix: bytes, chunks: Iterable[bytes]) -> None:
        self._aead = aead
        self._prefix = prefix
        self._chunks = chunks
        self.size = 0

    def _seal(self, index: int, data: bytearray, final: bool) -> bytes:
        return self._aead.encrypt(_nonce(self._prefix, index), data, _aad(index, final))

    def stream(self, header: bytes) -> Iterator[bytes]:
        yield header
        pending = bytearray()
        index = 0
        for chunk in self._chunks:
            self.size += len(chunk)
            pending += chunk
            while len(pending) > SEGMENT:  # the tail stays back: it may be the last segment
                yield self._seal(index, pending[:SEGMENT], False)
                del pending[:SEGMENT]
                index += 1
        yield self._seal(index, pending, True)


class _Plain:
    """A file written before encryption was on: its bytes as they are."""

    def __init__(self, raw: FileStream, head: bytes, ended: bool) -> None:
        self._raw = raw
        self._head = head
        self._ended = ended
        self.size = raw.size
        self.content_range: ContentRange | None = None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        if self._head:
            head, self._head = self._head, b""
            return head
        if self._ended:
            raise StopIteration
        return next(self._raw)

    def next_at_hand(self) -> bytes | None:
        if self._head:
            head, self._head = self._head, b""
            return head
        return b"" if self._ended else self._raw.next_at_hand()

    def close(self) -> None:
        self._raw.close()


class _Opened:
    """Decrypts an encrypted file's segments from `first` on; a failed tag ends it with
    DataLoss. Of a range, only its bytes are returned, each from a segment that passed its
    tag check; `last` is the file's last segment (sealed as such)."""

    def __init__(
        self,
        raw: FileStream,
        aead: AESGCM,
        prefix: bytes,
        buffered: bytearray,
        path: str,
        last: int,
        *,
        first: int = 0,
        content_range: ContentRange | None = None,
    ) -> None:
        self._raw = raw
        self._aead = aead
        self._prefix = prefix
        self._buffer = buffered
        self._ended = False  # the raw stream is exhausted
        self._done = False  # the range's (or the file's) last bytes were returned
        self._index = first
        self._last = last
        self._path = path
        self.content_range = content_range
        if content_range is None:
            self.size = plaintext_size(raw.size)
            self._skip = 0
        else:
            self.size = content_range.stop - content_range.start
            self._skip = content_range.start - first * SEGMENT
        self._left = self.size

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        while True:
            chunk = self._next_segment()
            if chunk is not None:
                if self._done and not chunk:
                    raise StopIteration
                return chunk
            self._take(next(self._raw, b""))

    def next_at_hand(self) -> bytes | None:
        while True:
            chunk = self._next_segment()
            if chunk is not None:
                return chunk
            raw = self._raw.next_at_hand()
            if raw is None:
                return None
            self._take(raw)

    def _take(self, raw: bytes) -> None:
        if raw:
            self._buffer += raw
        else:
            self._ended = True

    def _next_segment(self) -> bytes | None:
        """The next plaintext piece, b"" at the end, or None when more bytes are needed."""
        if self._done:
            return b""
        whole = SEGMENT + TAG
        final = self._index == self._last
        if not final and len(self._buffer) >= whole:
            sealed = self._buffer[:whole]
            del self._buffer[:whole]
        elif self._ended:  # the last segment, or one cut short (its tag check fails)
            sealed, self._buffer = self._buffer, bytearray()
        else:
            return None
        plain = self._decrypt(sealed, final)
        self._index += 1
        if self._skip:
            plain, self._skip = plain[self._skip :], 0
        plain = plain[: self._left]
        self._left -= len(plain)
        self._done = final or self._left == 0
        if self._done:
            self._raw.close()
        return plain

    def _decrypt(self, sealed: bytearray, final: bool) -> bytes:
        try:
            return self._aead.decrypt(
                _nonce(self._prefix, self._index), sealed, _aad(self._index, final)
            )
        except (InvalidTag, ValueError):
            self.close()
            raise DataLoss(
                f"Encrypted artifact {self._path!r} failed its integrity check at segment "
                f"{self._index}: it was altered or cut short"
            ) from None

    def close(self) -> None:
        self._done = True
        self._raw.close()
