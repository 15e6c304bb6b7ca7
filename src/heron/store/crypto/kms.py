"""A KMS that speaks AWS KMS's API (AWS itself, or a compatible service) as the key provider.

Data keys are wrapped with `Encrypt` under the configured key and unwrapped with `Decrypt`;
the key never leaves the KMS. A key that is disabled, scheduled for deletion or refused to
this identity makes `Decrypt` fail, and the content it protects is refused. The endpoint
comes from boto3's usual settings (`AWS_ENDPOINT_URL_KMS`, `AWS_ENDPOINT_URL`), the region
from `AWS_REGION`/`AWS_DEFAULT_REGION`, credentials from boto3's chain."""

from __future__ import annotations

import threading
from typing import Any

from heron.errors import KeyUnavailable

# Bound to every wrapped data key: a ciphertext made for something else does not unwrap.
_CONTEXT = {"purpose": "heron-data-key"}


class AwsKmsKeys:
    def __init__(self, key_id: str, *, endpoint_url: str | None = None) -> None:
        self.key_id = key_id
        self._endpoint_url = endpoint_url
        self._client: Any = None
        self._lock = threading.Lock()
        self._generation = 0
        self._arn: str | None = None

    def __repr__(self) -> str:
        return f"AwsKmsKeys({self.key_id!r})"

    @property
    def client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.session.Session().client(
                        "kms", endpoint_url=self._endpoint_url
                    )
        return self._client

    def primary_key_id(self) -> str:
        """The key's ARN (what Encrypt answers as KeyId), whatever name configured it."""
        if self._arn is None:
            answer = self._call("DescribeKey", self.key_id, KeyId=self.key_id)
            self._arn = str(answer["KeyMetadata"]["Arn"])
        return self._arn

    def generation(self) -> int:
        return self._generation

    def wrap(self, data_key: bytes) -> tuple[str, bytes]:
        answer = self._call(
            "Encrypt",
            self.key_id,
            KeyId=self.key_id,
            Plaintext=data_key,
            EncryptionContext=_CONTEXT,
        )
        return str(answer["KeyId"]), bytes(answer["CiphertextBlob"])

    def unwrap(self, key_id: str, wrapped: bytes) -> bytes:
        answer = self._call(
            "Decrypt",
            key_id,
            KeyId=key_id,
            CiphertextBlob=wrapped,
            EncryptionContext=_CONTEXT,
        )
        return bytes(answer["Plaintext"])

    def _call(self, operation: str, key_id: str, **request: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError

        methods = {
            "Encrypt": self.client.encrypt,
            "Decrypt": self.client.decrypt,
            "DescribeKey": self.client.describe_key,
        }
        try:
            return methods[operation](**request)
        except ClientError as exc:
            self._generation += 1  # a key may have been revoked: cached data keys go
            code = exc.response.get("Error", {}).get("Code", "Error")
            raise KeyUnavailable(
                f"The KMS refused {operation} with key {key_id!r} ({code}): the key is "
                "disabled, scheduled for deletion, or not allowed to this server; content it "
                "protects is refused"
            ) from None
        except BotoCoreError as exc:
            raise KeyUnavailable(f"The KMS could not be reached ({exc})") from None
