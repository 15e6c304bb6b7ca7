"""LocalArtifactRepository: artifacts as files under one directory, confined to it."""

from __future__ import annotations

import contextlib
import errno
import heapq
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from heron.entities import FileInfo, Page
from heron.errors import InvalidParameter, NotFound
from heron.store.artifacts import paths
from heron.store.artifacts.paging import decode_token, encode_token
from heron.store.artifacts.ranges import ByteRange, ContentRange
from heron.store.artifacts.repository import FileStream

TEMP_PREFIX = ".heron-upload-"
_FILE_MODE = 0o644
_OPEN_READ = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class LocalArtifactRepository:
    """Files under `root` (created when missing). Every path is cleaned (`paths.clean`) and,
    after resolving symlinks, must stay under `root`: a symlink that leads out is refused."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        Path(root).mkdir(parents=True, exist_ok=True)
        self.root = os.path.realpath(root)

    def __repr__(self) -> str:
        return f"LocalArtifactRepository({self.root!r})"

    # -- confinement

    def _inside(self, real: str) -> bool:
        return real == self.root or real.startswith(self.root + os.sep)

    def _resolve(self, path: str) -> tuple[str, str]:
        """(cleaned path, its real location under the root); refuses escapes."""
        rel = paths.clean(path)
        real = os.path.realpath(os.path.join(self.root, rel))
        if not self._inside(real):
            raise InvalidParameter(f"Invalid artifact path {path!r}: it leads out of the root")
        return rel, real

    # -- the ArtifactRepository Protocol

    def write(self, path: str, chunks: Iterable[bytes]) -> FileInfo:
        rel, real = self._resolve(path)
        if not rel:
            raise InvalidParameter("An artifact needs a file name")
        if os.path.isdir(real):
            raise InvalidParameter(f"Cannot write {rel!r}: it is a directory")
        parent = os.path.dirname(real)
        try:
            os.makedirs(parent, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise InvalidParameter(f"Cannot write {rel!r}: a parent is a file") from None
        fd, temp = tempfile.mkstemp(dir=parent, prefix=TEMP_PREFIX)
        size = 0
        try:
            with os.fdopen(fd, "wb", buffering=0) as out:
                os.fchmod(out.fileno(), _FILE_MODE)
                for chunk in chunks:
                    size += len(chunk)
                    view = memoryview(chunk)
                    while view:
                        view = view[out.write(view) or 0 :]
            os.replace(temp, real)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        return FileInfo(path=rel, is_dir=False, file_size=size)

    def read(
        self, path: str, *, chunk_size: int = 1 << 20, byte_range: ByteRange | None = None
    ) -> FileStream:
        """Opens the file now (so NotFound is raised by the call), streams it lazily."""
        rel, real = self._resolve(path)
        try:
            fd = os.open(real, _OPEN_READ)
        except (FileNotFoundError, NotADirectoryError):  # nothing there, or under a file
            raise NotFound(f"Artifact {rel!r} does not exist") from None
        except OSError as exc:
            if exc.errno == errno.ELOOP:  # swapped for a symlink since _resolve
                raise InvalidParameter(f"Invalid artifact path {rel!r}: a symlink") from None
            raise
        status = os.fstat(fd)
        if stat.S_ISDIR(status.st_mode):
            os.close(fd)
            raise InvalidParameter(f"Artifact {rel!r} is a directory, not a file")
        if byte_range is None:
            return _FileChunks(fd, status.st_size, chunk_size)
        try:
            start, stop = byte_range.within(status.st_size)
            os.lseek(fd, start, os.SEEK_SET)
        except BaseException:
            os.close(fd)
            raise
        return _FileChunks(fd, stop - start, chunk_size, ContentRange(start, stop, status.st_size))

    def list(
        self, path: str = "", *, max_results: int = 1000, page_token: str | None = None
    ) -> Page[FileInfo]:
        rel, real = self._resolve(path)
        after = decode_token(page_token) if page_token else None
        try:
            scan = os.scandir(real)
        except (FileNotFoundError, NotADirectoryError):
            return Page([])
        with scan:
            # Keyset paging: only the next page's names are held, however big the directory.
            entries = heapq.nsmallest(
                max_results + 1,
                (
                    entry
                    for entry in scan
                    if (after is None or entry.name > after)
                    and not entry.name.startswith(TEMP_PREFIX)
                ),
                key=lambda entry: entry.name,
            )
        more = len(entries) > max_results
        entries = entries[:max_results]
        items = [info for entry in entries if (info := self._info(rel, entry)) is not None]
        token = encode_token(entries[-1].name) if more else None
        return Page(items, token)

    def _info(self, rel: str, entry: os.DirEntry[str]) -> FileInfo | None:
        child = f"{rel}/{entry.name}" if rel else entry.name
        try:
            if entry.is_symlink() and not self._inside(os.path.realpath(entry.path)):
                return None  # never shown, never followed
            if entry.is_dir():
                return FileInfo(path=child, is_dir=True)
            return FileInfo(path=child, is_dir=False, file_size=entry.stat().st_size)
        except FileNotFoundError:
            return None  # deleted while listing

    def delete(self, path: str) -> None:
        rel = paths.clean(path)
        if not rel:
            raise InvalidParameter("Refusing to delete the whole artifact root")
        # The parent must be inside; the last part itself is removed, never followed.
        parent = os.path.realpath(os.path.join(self.root, os.path.dirname(rel)))
        if not self._inside(parent):
            raise InvalidParameter(f"Invalid artifact path {path!r}: it leads out of the root")
        target = os.path.join(parent, os.path.basename(rel))
        try:
            mode = os.lstat(target).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return
        if stat.S_ISDIR(mode):
            shutil.rmtree(target, ignore_errors=False)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(target)


# A read that never waits on the disk (Linux 4.14+, RWF_NOWAIT): what is in the page cache is
# copied at once, and if none of it is the read fails with EAGAIN.
_READ_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None) if hasattr(os, "preadv") else None


class _FileChunks:
    """Iterates an open file in chunks from where it stands, `size` bytes at most, and closes
    it at the end (or on close())."""

    def __init__(
        self, fd: int, size: int, chunk_size: int, content_range: ContentRange | None = None
    ) -> None:
        self._file = os.fdopen(fd, "rb", buffering=0)
        self.size = size
        self.content_range = content_range
        self._chunk_size = chunk_size
        self._left = size if content_range is not None else None  # a range's bytes to go

    def __iter__(self) -> Iterator[bytes]:
        return self

    def _next_size(self) -> int:
        return self._chunk_size if self._left is None else min(self._chunk_size, self._left)

    def _took(self, chunk: bytes) -> bytes:
        if self._left is not None:
            self._left -= len(chunk)
        return chunk

    def __next__(self) -> bytes:
        chunk = self._file.read(self._next_size()) if self._left != 0 else b""
        if not chunk:
            self._file.close()
            raise StopIteration
        return self._took(chunk)

    def next_at_hand(self) -> bytes | None:
        if self._file.closed:
            return b""
        if _READ_NOWAIT is None:
            return None
        if self._left == 0:
            self._file.close()
            return b""
        buffer = bytearray(self._next_size())
        try:
            n = os.preadv(self._file.fileno(), [buffer], self._file.tell(), _READ_NOWAIT)
        except OSError:  # EAGAIN: the next bytes are not in the page cache; or no such reads
            return None
        if n == 0:
            self._file.close()
            return b""
        self._file.seek(n, os.SEEK_CUR)
        return self._took(bytes(memoryview(buffer)[:n]))

    def close(self) -> None:
        self._file.close()

    def __del__(self) -> None:
        self._file.close()
