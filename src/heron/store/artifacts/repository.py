"""The artifact repository port: a tree of files under one root, addressed by relative paths.

Every `path` is "/"-separated and relative to the repository's root (for the server's proxy:
`<experiment_id>/<run_id>/artifacts/<file>`). Implementations confine every path to the root
(`heron.store.artifacts.paths.clean`) and stream: no file is ever read whole into memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeGuard

from heron.entities import FileInfo, Page
from heron.store.artifacts.ranges import ByteRange, ContentRange


class FileStream(Protocol):
    """A file's bytes in chunks, read lazily, and their count (a download's Content-Length).
    The file closes at the last chunk, or on close(). A read of a byte range yields only those
    bytes, and `content_range` says which they are (None for the whole file)."""

    size: int
    content_range: ContentRange | None

    def __iter__(self) -> Iterator[bytes]: ...

    def __next__(self) -> bytes:
        """The next chunk; it may wait on a disk or the network."""
        ...

    def next_at_hand(self) -> bytes | None:
        """The next chunk if it is in memory already (a local file's page cache), b"" at the
        end, or None when getting it would wait: then take it with next(), from a worker
        thread. An event loop sends a cached file this way without a thread hop a chunk."""
        ...

    def close(self) -> None: ...


class ArtifactRepository(Protocol):
    def write(self, path: str, chunks: Iterable[bytes]) -> FileInfo:
        """Stores a file from a stream of chunks, replacing one that is there; returns its info.
        The file appears whole or not at all (write to a temporary name, then rename)."""
        ...

    def read(
        self, path: str, *, chunk_size: int = 1 << 20, byte_range: ByteRange | None = None
    ) -> FileStream:
        """Streams a file, or only the bytes `byte_range` takes of it. Raises NotFound when
        there is no file at `path`, InvalidParameter when it is a directory,
        RangeNotSatisfiable when the range takes no byte of it."""
        ...

    def list(
        self, path: str = "", *, max_results: int = 1000, page_token: str | None = None
    ) -> Page[FileInfo]:
        """One directory level, sorted by path; paths in the answer are relative to the root.
        An absent directory is an empty page."""
        ...

    def delete(self, path: str) -> None:
        """Removes a file or a whole directory tree; absent paths are fine."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PartCredential:
    """Where the client sends one part of a multipart upload (a presigned URL)."""

    part_number: int
    url: str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class MultipartUpload:
    upload_id: str
    credentials: list[PartCredential]


class MultipartArtifactRepository(ArtifactRepository, Protocol):
    """A repository whose clients upload big files in parts, straight to the storage (S3)."""

    def create_multipart_upload(
        self, path: str, num_parts: int, *, expiration_s: int = 3600
    ) -> MultipartUpload: ...

    def complete_multipart_upload(
        self, path: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        """`parts` are (part_number, etag) pairs, as the storage answered each part's PUT."""
        ...

    def abort_multipart_upload(self, path: str, upload_id: str) -> None: ...


def supports_multipart(repository: ArtifactRepository) -> TypeGuard[MultipartArtifactRepository]:
    """Whether `repository` takes multipart uploads (S3 does, local disk does not)."""
    return callable(getattr(repository, "create_multipart_upload", None))
