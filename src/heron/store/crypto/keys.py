"""Customer-managed keys that wrap data keys: the port, and a local key file.

A key file is JSON, `{"format": "heron-keys/1", "primary": ID, "keys": {ID: base64}}`, each
key 32 random bytes. New data keys are wrapped by the primary; the others stay to unwrap
what they wrapped until `heron keys rewrap` has moved it to the primary. The file is read
again when it changes, so a running server takes a rotation (a new primary) or a revocation
(a key removed) within a second, without a restart."""

from __future__ import annotations

import base64
import os
import secrets
import threading
import time
from pathlib import Path
from typing import Protocol

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from heron.errors import InvalidParameter, KeyUnavailable

FORMAT = "heron-keys/1"
_NONCE = 12
_RECHECK_S = 1.0


class KeyProvider(Protocol):
    """Wraps and unwraps data keys with a customer-managed key (a key file, a KMS)."""

    def primary_key_id(self) -> str:
        """The key new data keys are wrapped with."""
        ...

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        """(the id of the key that wrapped it, the wrapped data key)."""
        ...

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        """The data key. Raises KeyUnavailable when `key_id` is revoked, disabled or
        unreachable, or the wrapped key was not made by it."""
        ...

    def generation(self) -> int:
        """A number that changes whenever keys may have been revoked (a cache of unwrapped
        keys is dropped then)."""
        ...


def new_key_id() -> str:
    return f"k-{time.strftime('%Y%m%d', time.gmtime())}-{secrets.token_hex(4)}"


def create_key_file(path: Path) -> str:
    """Writes a new key file holding one new key (mode 0600); returns the key's id.

    Raises:
        InvalidParameter: the file exists already.
    """
    if path.exists():
        raise InvalidParameter(f"{path} exists already: rotate its keys with `heron keys rotate`")
    key_id = new_key_id()
    _save(path, key_id, {key_id: secrets.token_bytes(32)})
    return key_id


def rotate_key_file(path: Path) -> str:
    """Adds a new key to the file and makes it the primary; returns its id."""
    primary, keys = _load(path)
    del primary
    key_id = new_key_id()
    keys[key_id] = secrets.token_bytes(32)
    _save(path, key_id, keys)
    return key_id


def retire_key(path: Path, key_id: str) -> None:
    """Removes a key that is not the primary (revokes it: what it wraps becomes unreadable).

    Raises:
        InvalidParameter: it is the primary, or not in the file.
    """
    primary, keys = _load(path)
    if key_id == primary:
        raise InvalidParameter(f"{key_id} is the primary key: rotate to a new one first")
    if keys.pop(key_id, None) is None:
        raise InvalidParameter(f"There is no key {key_id!r} in {path}")
    _save(path, primary, keys)


def _save(path: Path, primary: str, keys: dict[str, bytes]) -> None:
    doc = {
        "format": FORMAT,
        "primary": primary,
        "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, path)


def _load(path: Path) -> tuple[str, dict[str, bytes]]:
    try:
        doc = orjson.loads(path.read_bytes())
        if doc.get("format") != FORMAT:
            raise ValueError
        keys = {str(k): base64.b64decode(v, validate=True) for k, v in doc["keys"].items()}
        primary = str(doc["primary"])
    except FileNotFoundError:
        raise KeyUnavailable(f"The key file {path} is gone: encrypted content is refused") from None
    except (ValueError, KeyError, TypeError, AttributeError, orjson.JSONDecodeError):
        raise InvalidParameter(f"{path} is not a Heron key file ({FORMAT})") from None
    if primary not in keys or any(len(k) != 32 for k in keys.values()):
        raise InvalidParameter(f"{path}: the primary key is missing or a key is not 32 bytes")
    return primary, keys


class LocalKeyFile:
    """Keys from a key file, re-read when the file changes (checked at most once a second)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[int, int] | None = None
        self._checked = 0.0
        self._primary = ""
        self._keys: dict[str, bytes] = {}
        self._generation = 0
        self._refresh(force=True)

    def __repr__(self) -> str:
        return f"LocalKeyFile({str(self.path)!r})"

    def _refresh(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._checked < _RECHECK_S:
            return
        with self._lock:
            self._checked = now
            try:
                status = self.path.stat()
            except FileNotFoundError:
                self._keys, self._stamp = {}, None
                self._generation += 1
                return
            stamp = (status.st_mtime_ns, status.st_ino)
            if stamp != self._stamp:
                self._primary, self._keys = _load(self.path)
                self._stamp = stamp
                self._generation += 1

    def generation(self) -> int:
        self._refresh()
        return self._generation

    def primary_key_id(self) -> str:
        self._refresh()
        if not self._keys:
            raise KeyUnavailable(f"The key file {self.path} is gone: nothing can be encrypted")
        return self._primary

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        key_id = self.primary_key_id()
        nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(self._keys[key_id]).encrypt(nonce, data_key, key_id.encode())
        return key_id, nonce + sealed

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        self._refresh()
        key = self._keys.get(key_id)
        if key is None:  # added since the last look? (a rotation a moment ago)
            self._refresh(force=True)
            key = self._keys.get(key_id)
        if key is None:
            raise KeyUnavailable(
                f"The encryption key {key_id!r} is not in {self.path} (revoked or retired): "
                "content it protects is refused"
            )
        try:
            return AESGCM(key).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], key_id.encode())
        except InvalidTag:
            raise KeyUnavailable(
                f"A data key does not unwrap with key {key_id!r} (a different key of that id?)"
            ) from None
