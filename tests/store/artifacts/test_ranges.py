"""Range reads of artifacts: on local disk and S3, plain and encrypted (only the segments a
range covers are read and decrypted, and a tampered one is refused, never served)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from heron.errors import DataLoss
from heron.store.artifacts import LocalArtifactRepository
from heron.store.artifacts.encrypted import HEADER, SEGMENT, TAG, EncryptedArtifactRepository
from heron.store.artifacts.ranges import (
    ByteRange,
    ContentRange,
    RangeNotSatisfiable,
    parse_range,
)
from heron.store.crypto.envelope import DataKeys, open_key_provider
from heron.store.crypto.keys import create_key_file

SIZE = 3 * SEGMENT + 5  # four segments, the last one short
CONTENT = os.urandom(SIZE)

RANGES = [
    ByteRange(0, 0),
    ByteRange(0, 99),
    ByteRange(10, None),
    ByteRange(None, 7),
    ByteRange(None, SIZE + 100),  # a suffix longer than the file: all of it
    ByteRange(SEGMENT - 3, SEGMENT + 2),  # across a segment boundary
    ByteRange(SEGMENT, 2 * SEGMENT - 1),  # exactly one whole segment
    ByteRange(2 * SEGMENT + 17, SIZE + 1_000),  # past the end: cut at the end
    ByteRange(SIZE - 1, None),
]


def _python_slice(byte_range: ByteRange) -> slice:
    if byte_range.first is None:
        assert byte_range.last is not None
        return slice(max(SIZE - byte_range.last, 0), SIZE)
    return slice(byte_range.first, None if byte_range.last is None else byte_range.last + 1)


@pytest.fixture(params=["plain", "encrypted"])
def store(request: pytest.FixtureRequest, repository: Any, tmp_path: Path) -> Any:
    """The `repository` fixture (local disk, S3) as it is, and wrapped in encryption."""
    if request.param == "plain":
        return repository
    create_key_file(tmp_path / "keys.json")
    keys = DataKeys(open_key_provider(str(tmp_path / "keys.json")), cache_s=0)
    return EncryptedArtifactRepository(repository, keys)


def test_a_range_yields_exactly_its_bytes(store: Any) -> None:
    store.write("d/f.bin", [CONTENT])
    for byte_range in RANGES:
        stream = store.read("d/f.bin", byte_range=byte_range)
        expected = CONTENT[_python_slice(byte_range)]
        assert stream.size == len(expected), byte_range
        assert b"".join(stream) == expected, byte_range
        start = _python_slice(byte_range).indices(SIZE)[0]
        assert stream.content_range == ContentRange(start, start + len(expected), SIZE)


def test_a_range_outside_the_file_is_not_satisfiable(store: Any) -> None:
    store.write("f.bin", [b"0123456789"])
    store.write("empty.bin", [b""])
    for path, byte_range, size in [
        ("f.bin", ByteRange(10, None), 10),
        ("f.bin", ByteRange(50, 60), 10),
        ("f.bin", ByteRange(None, 0), 10),
        ("empty.bin", ByteRange(0, None), 0),
        ("empty.bin", ByteRange(None, 5), 0),
    ]:
        with pytest.raises(RangeNotSatisfiable) as caught:
            store.read(path, byte_range=byte_range)
        assert caught.value.size == size


def test_a_whole_read_is_not_a_range(store: Any) -> None:
    store.write("f.bin", [CONTENT])
    stream = store.read("f.bin")
    assert stream.content_range is None
    assert b"".join(stream) == CONTENT


def test_a_tampered_segment_in_the_range_is_refused_and_others_still_read(
    tmp_path: Path,
) -> None:
    create_key_file(tmp_path / "keys.json")
    keys = DataKeys(open_key_provider(str(tmp_path / "keys.json")), cache_s=0)
    encrypted = EncryptedArtifactRepository(LocalArtifactRepository(tmp_path / "root"), keys)
    encrypted.write("f.bin", [CONTENT])
    stored = tmp_path / "root/f.bin"
    data = bytearray(stored.read_bytes())
    data[HEADER + 2 * (SEGMENT + TAG) + 5] ^= 1  # a bit of the third segment
    stored.write_bytes(bytes(data))

    intact = encrypted.read("f.bin", byte_range=ByteRange(SEGMENT, 2 * SEGMENT - 1))
    assert b"".join(intact) == CONTENT[SEGMENT : 2 * SEGMENT]
    stream = encrypted.read("f.bin", byte_range=ByteRange(SEGMENT + 10, None))
    assert next(stream) == CONTENT[SEGMENT + 10 : 2 * SEGMENT]
    with pytest.raises(DataLoss, match="segment 2"):
        next(stream)  # nothing of segment 2 is served


def test_a_truncated_encrypted_file_is_refused_in_a_range_of_its_end(tmp_path: Path) -> None:
    create_key_file(tmp_path / "keys.json")
    keys = DataKeys(open_key_provider(str(tmp_path / "keys.json")), cache_s=0)
    encrypted = EncryptedArtifactRepository(LocalArtifactRepository(tmp_path / "root"), keys)
    encrypted.write("f.bin", [CONTENT])
    stored = tmp_path / "root/f.bin"
    data = stored.read_bytes()
    stored.write_bytes(data[: HEADER + 3 * (SEGMENT + TAG)])  # the last segment dropped
    with pytest.raises(DataLoss):
        b"".join(encrypted.read("f.bin", byte_range=ByteRange(None, 10)))


def test_a_plain_file_under_encryption_reads_its_range(tmp_path: Path) -> None:
    """Written before encryption was turned on: served as it is stored."""
    inner = LocalArtifactRepository(tmp_path / "root")
    inner.write("old.txt", [b"written before the key"])
    create_key_file(tmp_path / "keys.json")
    keys = DataKeys(open_key_provider(str(tmp_path / "keys.json")), cache_s=0)
    encrypted = EncryptedArtifactRepository(inner, keys)
    assert b"".join(encrypted.read("old.txt", byte_range=ByteRange(8, 13))) == b"before"


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        ("bytes=0-499", ByteRange(0, 499)),
        ("bytes=500-", ByteRange(500, None)),
        ("bytes=-500", ByteRange(None, 500)),
        ("bytes = 1-2", ByteRange(1, 2)),
        (None, None),
        ("bytes=0-1,5-6", None),  # several ranges: the whole file
        ("bytes=5-1", None),  # invalid: ignored
        ("items=0-1", None),
        ("bytes=-", None),
        ("bytes=a-b", None),
    ],
)
def test_range_headers(header: str | None, parsed: ByteRange | None) -> None:
    assert parse_range(header) == parsed
