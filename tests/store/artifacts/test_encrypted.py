"""Encryption at rest: round trips of every size, ciphertext on disk and in the bucket,
tampering found by the GCM tags, wrong and revoked keys refused, rotation and rewrap (also
under load), and a KMS (AWS KMS's API, moto's server on localhost) as the key provider."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest

from heron.errors import DataLoss, KeyUnavailable, NotFound
from heron.store.artifacts import LocalArtifactRepository
from heron.store.artifacts.encrypted import HEADER, MAGIC, SEGMENT, EncryptedArtifactRepository
from heron.store.crypto.envelope import DataKeys, open_key_provider
from heron.store.crypto.keys import create_key_file, retire_key, rotate_key_file
from heron.store.crypto.kms import AwsKmsKeys

SIZES = [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT + 5]


def _encrypted(inner: Any, key_file: Path) -> EncryptedArtifactRepository:
    return EncryptedArtifactRepository(inner, DataKeys(open_key_provider(str(key_file)), cache_s=0))


def _read(repository: Any, path: str) -> bytes:
    return b"".join(repository.read(path))


@pytest.mark.parametrize("size", SIZES, ids=str)
def test_round_trip_and_sizes_are_the_plaintexts(
    repository: Any, key_file: Path, size: int
) -> None:
    encrypted = _encrypted(repository, key_file)
    content = os.urandom(size)
    chunks = [content[i : i + 300_000] for i in range(0, size, 300_000)] or [b""]
    info = encrypted.write("a/file.bin", chunks)
    assert info.file_size == size
    stream = encrypted.read("a/file.bin")
    assert stream.size == size
    assert b"".join(stream) == content
    (listed,) = encrypted.list("a").items
    assert listed.file_size == size


def test_what_is_stored_is_ciphertext(repository: Any, key_file: Path) -> None:
    """On disk and in the S3 bucket (the `repository` fixture runs both)."""
    secret = b"the launch code is 0000 " * 50_000
    _encrypted(repository, key_file).write("secret.txt", [secret])
    stored = _read(repository, "secret.txt")  # the inner repository: raw bytes
    assert stored.startswith(MAGIC)
    assert b"launch code" not in stored
    assert len(stored) == HEADER + len(secret) + 16 * 2  # two segments, a tag each


@pytest.mark.parametrize("damage", ["flip-a-bit", "cut-short", "drop-last", "swap-segments"])
def test_tampering_is_detected(tmp_path: Path, key_file: Path, damage: str) -> None:
    inner = LocalArtifactRepository(tmp_path / "root")
    encrypted = _encrypted(inner, key_file)
    encrypted.write("f.bin", [os.urandom(2 * SEGMENT + 100)])
    file = tmp_path / "root/f.bin"
    data = bytearray(file.read_bytes())
    whole = SEGMENT + 16
    if damage == "flip-a-bit":
        data[HEADER + whole + 10] ^= 1
    elif damage == "cut-short":
        del data[-50:]
    elif damage == "drop-last":
        del data[HEADER + 2 * whole :]
    else:
        first = data[HEADER : HEADER + whole]
        data[HEADER : HEADER + whole] = data[HEADER + whole : HEADER + 2 * whole]
        data[HEADER + whole : HEADER + 2 * whole] = first
    file.write_bytes(bytes(data))
    with pytest.raises(DataLoss, match="integrity check"):
        _read(encrypted, "f.bin")


def test_a_damaged_header_is_refused(tmp_path: Path, key_file: Path) -> None:
    inner = LocalArtifactRepository(tmp_path / "root")
    _encrypted(inner, key_file).write("f.bin", [b"x" * 100])
    file = tmp_path / "root/f.bin"
    data = bytearray(file.read_bytes())
    data[len(MAGIC) + 3] ^= 0x55
    file.write_bytes(bytes(data))
    with pytest.raises((DataLoss, KeyUnavailable)):
        _read(_encrypted(inner, key_file), "f.bin")


def test_a_wrong_key_file_and_a_retired_key_are_refused(tmp_path: Path, key_file: Path) -> None:
    inner = LocalArtifactRepository(tmp_path / "root")
    _encrypted(inner, key_file).write("f.bin", [b"private"])
    other = tmp_path / "other.json"
    create_key_file(other)
    with pytest.raises(KeyUnavailable, match="not in"):
        _read(_encrypted(inner, other), "f.bin")

    first_key = json.loads(key_file.read_text())["primary"]
    rotate_key_file(key_file)
    retire_key(key_file, first_key)
    with pytest.raises(KeyUnavailable, match="revoked or retired"):
        _read(_encrypted(inner, key_file), "f.bin")


def test_plain_files_from_before_encryption_are_read_as_they_are(
    tmp_path: Path, key_file: Path
) -> None:
    inner = LocalArtifactRepository(tmp_path / "root")
    inner.write("old.txt", [b"written before encryption was on"])
    assert _read(_encrypted(inner, key_file), "old.txt") == b"written before encryption was on"
    with pytest.raises(NotFound):
        _encrypted(inner, key_file).read("missing.txt")


def test_rotation_then_rewrap_moves_every_file_to_the_new_key(
    tmp_path: Path, key_file: Path
) -> None:
    inner = LocalArtifactRepository(tmp_path / "root")
    encrypted = _encrypted(inner, key_file)
    contents = {f"f{i}.bin": os.urandom(1000 * i) for i in range(5)}
    for path, content in contents.items():
        encrypted.write(path, [content])
    old = encrypted.keys.provider.primary_key_id()
    new = rotate_key_file(key_file)
    rotated = _encrypted(inner, key_file)
    rotated.write("after.bin", [b"new writes use the new key"])
    assert new.encode() in _read(inner, "after.bin")[:HEADER]
    assert sorted(p for p in contents if rotated.rewrap(p)) == sorted(contents)
    assert not rotated.rewrap("after.bin")
    retire_key(key_file, old)
    for path, content in contents.items():
        assert _read(rotated, path) == content


def test_rotation_under_load_loses_and_garbles_nothing(tmp_path: Path, key_file: Path) -> None:
    inner = LocalArtifactRepository(tmp_path / "root")
    encrypted = EncryptedArtifactRepository(inner, DataKeys(open_key_provider(str(key_file))))
    written: dict[str, str] = {}
    errors: list[BaseException] = []
    stop = threading.Event()

    def load(worker: int) -> None:
        n = 0
        while not stop.is_set() and n < 200:
            path = f"w{worker}/{n}.bin"
            content = os.urandom(5000 + n)
            try:
                encrypted.write(path, [content])
                written[path] = hashlib.sha256(content).hexdigest()
                assert hashlib.sha256(_read(encrypted, path)).hexdigest() == written[path]
            except BaseException as exc:
                errors.append(exc)
                return
            n += 1

    threads = [threading.Thread(target=load, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(3):
        rotate_key_file(key_file)
        for path in list(written):
            encrypted.rewrap(path)
    stop.set()
    for thread in threads:
        thread.join()
    assert not errors, errors[:3]
    for path, digest in written.items():
        assert hashlib.sha256(_read(encrypted, path)).hexdigest() == digest


def test_kms_wraps_rewraps_and_fails_closed(kms: Any, tmp_path: Path) -> None:
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    provider = open_key_provider(f"aws-kms://{key_id}")
    assert isinstance(provider, AwsKmsKeys)
    inner = LocalArtifactRepository(tmp_path / "root")
    encrypted = EncryptedArtifactRepository(inner, DataKeys(provider, cache_s=0))
    encrypted.write("model.bin", [b"weights" * 1000])
    assert b"weights" not in _read(inner, "model.bin")
    assert _read(encrypted, "model.bin") == b"weights" * 1000

    second = kms.create_key()["KeyMetadata"]
    moved = EncryptedArtifactRepository(
        inner, DataKeys(open_key_provider(f"aws-kms://alias/none-{second['KeyId']}"), cache_s=0)
    )
    with pytest.raises(KeyUnavailable, match="KMS refused"):  # no such key: nothing wraps
        moved.rewrap("model.bin")
    moved = EncryptedArtifactRepository(
        inner, DataKeys(open_key_provider(f"aws-kms://{second['KeyId']}"), cache_s=0)
    )
    assert moved.rewrap("model.bin")
    assert second["Arn"].encode() in _read(inner, "model.bin")[:HEADER]
    assert _read(moved, "model.bin") == b"weights" * 1000

    # The KMS out of reach: the content is refused, never served in clear or as garbage.
    gone = AwsKmsKeys(second["KeyId"], endpoint_url=f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(KeyUnavailable, match="could not be reached"):
        _read(EncryptedArtifactRepository(inner, DataKeys(gone, cache_s=0)), "model.bin")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
