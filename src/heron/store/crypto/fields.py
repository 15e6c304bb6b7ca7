"""FieldCipher: sensitive text fields encrypted in the database (webhook secrets, span inputs
and outputs, and whatever another store hands it, such as tokens' metadata).

A value is stored as `heron-enc:1:<key id>:<wrapped data key>:<nonce + ciphertext + tag>`
(base64): AES-256-GCM under a data key of this process, made on first use and wrapped by the
customer-managed key, so a row names the key that can open it and rotation needs no
migration. A value without the prefix (written before encryption was on) reads as it is.
Encrypted fields cannot be searched by their contents: pick them accordingly."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import threading
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from heron.errors import DataLoss
from heron.store.crypto.envelope import DataKey, DataKeys, open_key_provider

PREFIX = "heron-enc:1:"
_NONCE = 12


class FieldCipher:
    """Encrypts and decrypts text fields; `sensitive_keys` are the patterns (regular
    expressions, matched whole) naming params and tags to encrypt, e.g. `.*password.*`."""

    def __init__(self, keys: DataKeys, *, sensitive_keys: Sequence[str] = ()) -> None:
        self._keys = keys
        self._data_key: DataKey | None = None
        self._lock = threading.Lock()
        self._sensitive = [re.compile(p) for p in sensitive_keys]

    def _current(self) -> DataKey:
        primary = self._keys.provider.primary_key_id()
        with self._lock:
            if self._data_key is None or self._data_key.key_id != primary:
                self._data_key = self._keys.new()  # a rotation: new values use the new key
            return self._data_key

    def encrypt(self, text: str) -> str:
        key = self._current()
        nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(key.key).encrypt(nonce, text.encode(), key.key_id.encode())
        wrapped = base64.b64encode(key.wrapped).decode()
        return f"{PREFIX}{key.key_id}:{wrapped}:{base64.b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str) -> str:
        """The text of a stored value (as it is when it was never encrypted).

        Raises:
            KeyUnavailable: its key is revoked or unreachable.
            DataLoss: the stored value was altered.
        """
        if not stored.startswith(PREFIX):
            return stored
        try:
            key_id, wrapped, sealed = stored[len(PREFIX) :].rsplit(":", 2)
            raw = base64.b64decode(sealed, validate=True)
            data_key = self._keys.unwrap(key_id, base64.b64decode(wrapped, validate=True))
            plain = AESGCM(data_key).decrypt(raw[:_NONCE], raw[_NONCE:], key_id.encode())
        except (ValueError, binascii.Error, InvalidTag):
            raise DataLoss("An encrypted field failed its integrity check") from None
        return plain.decode()

    def encrypt_optional(self, text: str | None) -> str | None:
        return None if text is None else self.encrypt(text)

    def decrypt_optional(self, stored: str | None) -> str | None:
        return None if stored is None else self.decrypt(stored)

    def is_sensitive(self, key: str) -> bool:
        """Whether a param or tag of this key is encrypted."""
        return any(p.fullmatch(key) for p in self._sensitive)


def field_cipher(key_uri: str | None, *, cache_s: float) -> FieldCipher | None:
    """The cipher for the key `key_uri` (a key file or aws-kms://...), or None without one."""
    if not key_uri:
        return None
    return FieldCipher(DataKeys(open_key_provider(key_uri), cache_s=cache_s))


def is_encrypted(stored: str | None) -> bool:
    return stored is not None and stored.startswith(PREFIX)
