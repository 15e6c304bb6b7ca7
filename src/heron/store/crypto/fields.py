"""FieldCipher and Sealer: sensitive text fields encrypted in the database (webhook secrets,
trace inputs and outputs, tokens' names, params and tags whose keys match a pattern).

A value is stored as `heron-enc:1:<key id>:<wrapped data key>:<nonce + ciphertext + tag>`
(base64): AES-256-GCM under a data key of this process, made on first use and wrapped by the
customer-managed key, so a row names the key that can open it and rotation needs no
migration. A value without the prefix (written before encryption was on) reads as it is.
Encrypted fields cannot be searched by their contents: pick them accordingly."""

from __future__ import annotations

import base64
import binascii
import fnmatch
import os
import threading
import time
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from heron.errors import DataLoss, InvalidParameter, KeyUnavailable
from heron.store.crypto.envelope import DataKey, DataKeys, open_key_provider

PREFIX = "heron-enc:1:"
_NONCE = 12
_OPENERS_MAX = 1000
_OPENED_MAX = 10_000
_OPENED_CHARS = 4096
_VERDICTS_MAX = 10_000


# Heron's own keys (mlflow.runName, mlflow.user, ...) are read by Heron itself: never sealed.
RESERVED_PREFIX = "mlflow."


class FieldCipher:
    """Encrypts and decrypts text fields; `sensitive_keys` are the glob patterns (matched
    whole, ignoring case) naming params and tags to encrypt, e.g. `*password*`, `secret.*`."""

    def __init__(self, keys: DataKeys, *, sensitive_keys: Sequence[str] = ()) -> None:
        self.keys = keys
        self._data_key: DataKey | None = None
        self._sealer: AESGCM | None = None
        self._head = ""  # "heron-enc:1:<key id>:<wrapped data key>:" of the data key
        # "heron-enc:1:<key id>:<wrapped>" -> (key generation, expiry, cipher, associated
        # data): a run's or a page's values share a data key, so it is unwrapped once, and
        # dropped as the data keys' cache drops it (a revoked key stops opening at once).
        self._openers: dict[str, tuple[int, float, AESGCM, bytes]] = {}
        # Small values (and a run's params or tags as JSON) opened lately, by their sealed
        # text: a page of runs read again is not decrypted again. A value altered in the
        # database is another text, so it is opened (and refused) afresh; entries lapse as
        # the data keys' cache does, and at once when keys may have been revoked.
        self._opened: dict[str, tuple[int, float, str]] = {}
        self._lock = threading.Lock()
        self.sensitive_keys = tuple(sensitive_keys)
        self._sensitive = [p.lower() for p in sensitive_keys]
        self._verdicts: dict[str, bool] = {}  # is_sensitive's answers: keys repeat a lot

    def _current(self) -> tuple[DataKey, AESGCM, str]:
        primary = self.keys.provider.primary_key_id()
        with self._lock:
            if self._data_key is None or self._sealer is None or self._data_key.key_id != primary:
                self._data_key = self.keys.new()  # a rotation: new values use the new key
                self._sealer = AESGCM(self._data_key.key)
                wrapped = base64.b64encode(self._data_key.wrapped).decode()
                self._head = f"{PREFIX}{self._data_key.key_id}:{wrapped}:"
            return self._data_key, self._sealer, self._head

    def encrypt(self, text: str) -> str:
        key, aead, head = self._current()
        nonce = os.urandom(_NONCE)  # random per value: a data key may outlive a fork
        sealed = aead.encrypt(nonce, text.encode(), key.key_id.encode())
        return head + binascii.b2a_base64(nonce + sealed, newline=False).decode()

    def primary_key_id(self) -> str:
        return self.keys.provider.primary_key_id()

    def decrypt(self, stored: str, what: str = "An encrypted field") -> str:
        """The text of a stored value (as it is when it was never encrypted); `what` names
        the field in the error.

        Raises:
            KeyUnavailable: its key is revoked or unreachable.
            DataLoss: the stored value was altered.
        """
        if not stored.startswith(PREFIX):
            return stored
        generation = self.generation()
        hit = self.recalled(stored)
        if hit is not None:
            return hit
        try:
            head, sealed = stored.rsplit(":", 1)
            aead, aad = self._opener(head)
            raw = binascii.a2b_base64(sealed, strict_mode=True)
            plain = aead.decrypt(raw[:_NONCE], raw[_NONCE:], aad)
        except (ValueError, binascii.Error, InvalidTag):
            raise DataLoss(
                f"{what} failed its integrity check: it was altered in the database"
            ) from None
        text = plain.decode()
        self.remember(stored, text, generation)
        return text

    def generation(self) -> int:
        """Changes when keys may have been revoked: what was opened before is opened again."""
        return self.keys.provider.generation()

    def recalled(self, sealed: str) -> str | None:
        """The text `remember` kept for `sealed`, while its keys' cache would keep them."""
        hit = self._opened.get(sealed)
        if hit is None or hit[0] != self.generation() or hit[1] <= time.monotonic():
            return None
        return hit[2]

    def remember(self, sealed: str, text: str, generation: int) -> None:
        """Keeps `text`, opened from `sealed` (a value, or a text holding sealed values) at
        key generation `generation`, for as long as data keys are kept."""
        if self.keys.cache_s > 0 and len(sealed) <= _OPENED_CHARS:
            if len(self._opened) >= _OPENED_MAX:
                self._opened.clear()
            self._opened[sealed] = (generation, time.monotonic() + self.keys.cache_s, text)

    def _opener(self, head: str) -> tuple[AESGCM, bytes]:
        """The cipher of the data key a value's head names (raises ValueError when the head
        is malformed, KeyUnavailable when its key is gone)."""
        generation = self.keys.provider.generation()
        now = time.monotonic()
        hit = self._openers.get(head)
        if hit is not None and hit[0] == generation and hit[1] > now:
            return hit[2], hit[3]
        key_id, wrapped = head[len(PREFIX) :].split(":")
        data_key = self.keys.unwrap(key_id, base64.b64decode(wrapped, validate=True))
        opener = (generation, now + self.keys.cache_s, AESGCM(data_key), key_id.encode())
        if self.keys.cache_s > 0:
            with self._lock:
                if len(self._openers) >= _OPENERS_MAX:
                    self._openers.clear()
                self._openers[head] = opener
        return opener[2], opener[3]

    def encrypt_optional(self, text: str | None) -> str | None:
        return None if text is None else self.encrypt(text)

    def decrypt_optional(self, stored: str | None) -> str | None:
        return None if stored is None else self.decrypt(stored)

    def is_sensitive(self, key: str) -> bool:
        """Whether a param or tag of this key is encrypted."""
        if key.startswith(RESERVED_PREFIX) or not self._sensitive:
            return False
        verdict = self._verdicts.get(key)
        if verdict is None:
            folded = key.lower()
            verdict = any(fnmatch.fnmatchcase(folded, p) for p in self._sensitive)
            if len(self._verdicts) >= _VERDICTS_MAX:
                self._verdicts.clear()
            self._verdicts[key] = verdict
        return verdict


def field_cipher(
    key_uri: str | None, *, cache_s: float, sensitive_keys: Sequence[str] = ()
) -> FieldCipher | None:
    """The cipher for the key `key_uri` (a key file or aws-kms://...), or None without one.

    Raises:
        InvalidParameter: patterns of sensitive keys without a key to encrypt them with.
    """
    if not key_uri:
        if sensitive_keys:
            raise InvalidParameter(
                "Sensitive keys (--sensitive-keys) are encrypted with the encryption key: "
                "give one with --encryption-key or $HERON_ENCRYPTION_KEY"
            )
        return None
    keys = DataKeys(open_key_provider(key_uri), cache_s=cache_s)
    return FieldCipher(keys, sensitive_keys=sensitive_keys)


def is_encrypted(stored: str | None) -> bool:
    return stored is not None and stored.startswith(PREFIX)


class Sealer:
    """What the stores call, with field encryption on or off: with a cipher, sensitive
    values are sealed on write; any sealed value is opened on read, and refused (fail
    closed) when this process has no key."""

    def __init__(self, cipher: FieldCipher | None) -> None:
        self.cipher = cipher

    @property
    def on(self) -> bool:
        return self.cipher is not None

    def seal(self, text: str) -> str:
        return text if self.cipher is None else self.cipher.encrypt(text)

    def seal_optional(self, text: str | None) -> str | None:
        return None if text is None else self.seal(text)

    def is_sensitive(self, key: str) -> bool:
        return self.cipher is not None and self.cipher.is_sensitive(key)

    def seal_value(self, key: str, value: str) -> str:
        """A param's or tag's value as stored: sealed when its key is sensitive."""
        if self.cipher is None or not self.cipher.is_sensitive(key):
            return value
        return self.cipher.encrypt(value)

    def open(self, stored: str, what: str) -> str:
        """Raises KeyUnavailable (no key, or revoked) or DataLoss (altered)."""
        if not stored.startswith(PREFIX):
            return stored
        if self.cipher is None:
            raise KeyUnavailable(
                f"{what} is encrypted and this process has no encryption key: give it the "
                "key (--encryption-key or $HERON_ENCRYPTION_KEY)"
            )
        return self.cipher.decrypt(stored, what)

    def open_optional(self, stored: str | None, what: str) -> str | None:
        return None if stored is None else self.open(stored, what)
