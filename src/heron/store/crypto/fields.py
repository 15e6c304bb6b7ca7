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
import secrets
import threading
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from heron.errors import DataLoss, InvalidParameter, KeyUnavailable
from heron.store.crypto.envelope import DataKey, DataKeys, open_key_provider

PREFIX = "heron-enc:1:"
_NONCE = 12


# Heron's own keys (mlflow.runName, mlflow.user, ...) are read by Heron itself: never sealed.
RESERVED_PREFIX = "mlflow."


class FieldCipher:
    """Encrypts and decrypts text fields; `sensitive_keys` are the glob patterns (matched
    whole, ignoring case) naming params and tags to encrypt, e.g. `*password*`, `secret.*`."""

    def __init__(self, keys: DataKeys, *, sensitive_keys: Sequence[str] = ()) -> None:
        self.keys = keys
        self._data_key: DataKey | None = None
        self._lock = threading.Lock()
        self.sensitive_keys = tuple(sensitive_keys)
        self._sensitive = [p.lower() for p in sensitive_keys]

    def _current(self) -> DataKey:
        primary = self.keys.provider.primary_key_id()
        with self._lock:
            if self._data_key is None or self._data_key.key_id != primary:
                self._data_key = self.keys.new()  # a rotation: new values use the new key
            return self._data_key

    def encrypt(self, text: str) -> str:
        key = self._current()
        nonce = secrets.token_bytes(_NONCE)
        sealed = AESGCM(key.key).encrypt(nonce, text.encode(), key.key_id.encode())
        wrapped = base64.b64encode(key.wrapped).decode()
        return f"{PREFIX}{key.key_id}:{wrapped}:{base64.b64encode(nonce + sealed).decode()}"

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
        try:
            key_id, wrapped, sealed = stored[len(PREFIX) :].rsplit(":", 2)
            raw = base64.b64decode(sealed, validate=True)
            data_key = self.keys.unwrap(key_id, base64.b64decode(wrapped, validate=True))
            plain = AESGCM(data_key).decrypt(raw[:_NONCE], raw[_NONCE:], key_id.encode())
        except (ValueError, binascii.Error, InvalidTag):
            raise DataLoss(
                f"{what} failed its integrity check: it was altered in the database"
            ) from None
        return plain.decode()

    def encrypt_optional(self, text: str | None) -> str | None:
        return None if text is None else self.encrypt(text)

    def decrypt_optional(self, stored: str | None) -> str | None:
        return None if stored is None else self.decrypt(stored)

    def is_sensitive(self, key: str) -> bool:
        """Whether a param or tag of this key is encrypted."""
        if key.startswith(RESERVED_PREFIX) or not self._sensitive:
            return False
        folded = key.lower()
        return any(fnmatch.fnmatchcase(folded, p) for p in self._sensitive)


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
