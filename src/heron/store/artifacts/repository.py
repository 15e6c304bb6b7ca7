"""The artifact repository port: a tree of files under one root, addressed by relative paths.

Every `path` is "/"-separated and relative to the repository's root (for the server's proxy:
`<experiment_id>/<run_id>/artifacts/<file>`). Implementations confine every path to the root
(`heron.store.artifacts.paths.clean`) and stream: no file is ever read whole into memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from heron.entities import FileInfo, Page


class ArtifactRepository(Protocol):
    def write(self, path: str, chunks: Iterable[bytes]) -> FileInfo:
        """Stores a file from a stream of chunks, replacing one that is there; returns its info.
        The file appears whole or not at all (write to a temporary name, then rename)."""
        ...

    def read(self, path: str, *, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """Streams a file. Raises NotFound when there is no file at `path`, InvalidParameter
        when it is a directory."""
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
