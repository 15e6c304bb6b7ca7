"""Envelope encryption: fresh AES-256 data keys, wrapped by the customer-managed key, and a
short-lived cache of unwrapped ones (so reading a hundred files costs one KMS call, and a
revoked key stops working within the cache's lifetime; at once for a key file)."""

from __future__ import annotations

import os
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass

from heron.errors import InvalidParameter
from heron.store.crypto.keys import KeyProvider, LocalKeyFile
from heron.store.crypto.kms import AwsKmsKeys

KMS_SCHEME = "aws-kms://"
DEFAULT_CACHE_S = 60.0
_CACHE_MAX = 10_000


def open_key_provider(uri: str) -> KeyProvider:
    """`aws-kms://<key id, ARN or alias/...>` or a key file (`file:///path` or a path).

    Raises:
        InvalidParameter: a key file that does not exist.
    """
    if uri.startswith(KMS_SCHEME):
        endpoint = os.environ.get("AWS_ENDPOINT_URL_KMS") or os.environ.get("AWS_ENDPOINT_URL")
        return AwsKmsKeys(uri[len(KMS_SCHEME) :], endpoint_url=endpoint)
    path = urllib.parse.unquote(uri[len("file://") :]) if uri.startswith("file://") else uri
    if not os.path.isfile(path):
        raise InvalidParameter(
            f"There is no key file at {path!r}: make one with `heron keys create {path}`"
        )
    return LocalKeyFile(path)


@dataclass(frozen=True, slots=True)
class DataKey:
    key: bytes  # 32 bytes, never stored
    key_id: str  # the customer-managed key that wrapped it
    wrapped: bytes


class DataKeys:
    """New data keys, and unwrapping with a cache of `cache_s` seconds."""

    def __init__(self, provider: KeyProvider, *, cache_s: float = DEFAULT_CACHE_S) -> None:
        self.provider = provider
        self._cache_s = cache_s
        self._cache: dict[tuple[str, bytes], tuple[float, bytes]] = {}
        self._generation = provider.generation()
        self._lock = threading.Lock()

    @property
    def cache_s(self) -> float:
        """How long an unwrapped data key is reused (0: never)."""
        return self._cache_s

    def new(self) -> DataKey:
        key = secrets.token_bytes(32)
        key_id, wrapped = self.provider.wrap(key)
        return DataKey(key, key_id, wrapped)

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        """The data key; raises KeyUnavailable when the customer-managed key is gone."""
        generation = self.provider.generation()
        now = time.monotonic()
        with self._lock:
            if generation != self._generation:
                self._cache.clear()
                self._generation = generation
            hit = self._cache.get((key_id, wrapped))
            if hit is not None and hit[0] > now:
                return hit[1]
        key = self.provider.unwrap(key_id, wrapped)
        if self._cache_s > 0:
            with self._lock:
                if len(self._cache) >= _CACHE_MAX:
                    self._cache.clear()
                self._cache[(key_id, wrapped)] = (now + self._cache_s, key)
        return key
