"""The ArtifactRepository Protocol, on local disk and on S3: same behaviour from both."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

from heron.entities import FileInfo
from heron.errors import InvalidParameter, NotFound
from heron.store.artifacts import LocalArtifactRepository


def _walk_files(repository: Any, path: str = "") -> list[str]:
    found: list[str] = []
    token = None
    while True:
        page = repository.list(path, page_token=token)
        for info in page:
            found.extend(_walk_files(repository, info.path) if info.is_dir else [info.path])
        token = page.next_page_token
        if token is None:
            return found


def test_write_then_read_round_trips_bytes(repository: Any) -> None:
    info = repository.write("a/b/hello.txt", [b"hello ", b"", b"world"])
    assert info == FileInfo(path="a/b/hello.txt", is_dir=False, file_size=11)
    assert b"".join(repository.read("a/b/hello.txt")) == b"hello world"


def test_write_replaces_an_existing_file(repository: Any) -> None:
    repository.write("f.txt", [b"old content"])
    repository.write("f.txt", [b"new"])
    assert b"".join(repository.read("f.txt")) == b"new"


def test_big_file_streams_in_chunks_with_same_sha256(repository: Any) -> None:
    block = os.urandom(1 << 20)
    expected = hashlib.sha256(block * 20).hexdigest()

    def chunks() -> Iterator[bytes]:
        for _ in range(20):
            yield block

    assert repository.write("big/blob.bin", chunks()).file_size == 20 << 20
    digest = hashlib.sha256()
    sizes = []
    for chunk in repository.read("big/blob.bin", chunk_size=256 * 1024):
        sizes.append(len(chunk))
        digest.update(chunk)
    assert digest.hexdigest() == expected
    assert max(sizes) <= 256 * 1024


def test_a_read_tells_its_size_and_mixes_chunks_at_hand_with_waited_ones(
    repository: Any,
) -> None:
    """What a server does with a download: chunks at hand taken on its event loop, the
    others with next() (in a worker thread), in any mix, give the file whole and in order."""
    content = os.urandom(3 * 65536 + 100)
    repository.write("mixed.bin", [content])
    stream = repository.read("mixed.bin", chunk_size=65536)
    assert stream.size == len(content)
    got, at_hand, turn = bytearray(), 0, 0
    while True:
        chunk = stream.next_at_hand() if turn % 2 == 0 else None
        turn += 1
        if chunk is None:
            chunk = next(stream, b"")
        else:
            at_hand += len(chunk) > 0
        if not chunk:
            break
        got += chunk
    assert bytes(got) == content
    assert stream.next_at_hand() == b""  # at the end, and closed
    if isinstance(repository, LocalArtifactRepository):
        assert at_hand >= 2  # the file just written is in the page cache
    else:
        assert at_hand == 0  # S3's chunks all come over the network


def test_list_shows_one_level_sorted_with_sizes(repository: Any) -> None:
    repository.write("d/z.txt", [b"zz"])
    repository.write("d/a.txt", [b"a"])
    repository.write("d/m/deep.txt", [b"deep"])
    page = repository.list("d")
    assert list(page) == [
        FileInfo(path="d/a.txt", is_dir=False, file_size=1),
        FileInfo(path="d/m", is_dir=True),
        FileInfo(path="d/z.txt", is_dir=False, file_size=2),
    ]
    assert page.next_page_token is None
    assert list(repository.list("")) == [FileInfo(path="d", is_dir=True)]


def test_list_of_absent_directory_is_empty(repository: Any) -> None:
    assert list(repository.list("nothing/here")) == []


def test_list_pages_with_an_opaque_token(repository: Any) -> None:
    for i in range(25):
        repository.write(f"many/f{i:03d}.txt", [b"x"])
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        page = repository.list("many", max_results=10, page_token=token)
        pages += 1
        seen.extend(info.path for info in page)
        token = page.next_page_token
        if token is None:
            break
    assert seen == [f"many/f{i:03d}.txt" for i in range(25)]
    assert pages == 3


def test_read_of_missing_file_is_not_found(repository: Any) -> None:
    with pytest.raises(NotFound):
        repository.read("missing.txt")


def test_read_under_a_file_is_not_found(repository: Any) -> None:
    repository.write("f.txt", [b"x"])
    with pytest.raises(NotFound):
        repository.read("f.txt/sub")


def test_read_of_directory_is_invalid(repository: Any) -> None:
    repository.write("dir/file.txt", [b"x"])
    with pytest.raises(InvalidParameter):
        repository.read("dir")


def test_delete_removes_a_file_or_a_whole_tree(repository: Any) -> None:
    repository.write("t/keep.txt", [b"k"])
    repository.write("t/gone.txt", [b"g"])
    repository.write("t/sub/a.txt", [b"a"])
    repository.write("t/sub/b/c.txt", [b"c"])
    repository.delete("t/gone.txt")
    repository.delete("t/sub")
    repository.delete("t/never-there")
    assert _walk_files(repository) == ["t/keep.txt"]
    with pytest.raises(NotFound):
        repository.read("t/sub/a.txt")


@pytest.mark.parametrize("path", ["../x", "/etc/passwd", "a\\b", "%2e%2e%2fx", "a\x00b"], ids=repr)
def test_unsafe_paths_are_refused_by_every_operation(repository: Any, path: str) -> None:
    with pytest.raises(InvalidParameter):
        repository.write(path, [b"x"])
    with pytest.raises(InvalidParameter):
        repository.read(path)
    with pytest.raises(InvalidParameter):
        repository.list(path)
    with pytest.raises(InvalidParameter):
        repository.delete(path)


def test_delete_of_the_root_is_refused(repository: Any) -> None:
    with pytest.raises(InvalidParameter):
        repository.delete("")


def test_failed_upload_leaves_no_file(repository: Any) -> None:
    def broken() -> Iterator[bytes]:
        yield b"partial"
        raise OSError("client went away")

    with pytest.raises(OSError, match="client went away"):
        repository.write("half.bin", broken())
    assert _walk_files(repository) == []
