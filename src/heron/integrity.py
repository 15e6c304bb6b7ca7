"""Upload integrity (server and client): a PUT's body must have the size and digest its
headers announce.

A client may send `Content-Digest: sha-256=:<base64>:` (RFC 9530), `Content-MD5: <base64>`
(RFC 1864, what S3 clients send) or both; the body's `Content-Length` is checked too. The
check runs as the body streams to the repository and fails before the file is committed,
so a corrupted or truncated upload leaves nothing behind."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterator, Mapping

from heron.errors import InvalidParameter

_DIGEST_ENTRY = re.compile(r"\s*([A-Za-z0-9-]+)\s*=\s*:([A-Za-z0-9+/=]*):\s*")
_ALGORITHMS = {"sha-256": "sha256", "sha-512": "sha512"}


def expected_digests(headers: Mapping[str, str]) -> dict[str, bytes]:
    """hashlib name -> expected digest, from the request's headers.

    Raises:
        InvalidParameter: a digest header that cannot be read.
    """
    expected: dict[str, bytes] = {}
    content_digest = headers.get("content-digest")
    if content_digest:
        for entry in content_digest.split(","):
            match = _DIGEST_ENTRY.fullmatch(entry)
            if match is None:
                raise InvalidParameter(
                    f"Cannot read Content-Digest {content_digest!r}: use sha-256=:<base64>:"
                )
            algorithm = _ALGORITHMS.get(match.group(1).lower())
            if algorithm is not None:  # unknown algorithms are ignored (RFC 9530)
                expected[algorithm] = _decoded(match.group(2), "Content-Digest")
    content_md5 = headers.get("content-md5")
    if content_md5:
        expected["md5"] = _decoded(content_md5.strip(), "Content-MD5")
    return expected


def verified(
    chunks: Iterator[bytes], *, length: int | None, digests: Mapping[str, bytes]
) -> Iterator[bytes]:
    """`chunks`, passed through; raises InvalidParameter at the end (before the consumer
    commits) when the size or a digest differs from what was announced."""
    hashes = {name: hashlib.new(name) for name in digests}
    size = 0
    for chunk in chunks:
        size += len(chunk)
        for running in hashes.values():
            running.update(chunk)
        yield chunk
    if length is not None and size != length:
        raise InvalidParameter(
            f"The upload was cut short: {size} bytes arrived of the {length} announced; "
            "send it again"
        )
    for name, running in hashes.items():
        if running.digest() != digests[name]:
            raise InvalidParameter(
                f"The upload's {name} digest does not match its content: it was corrupted "
                "on the way; send it again"
            )


def sha256_header(digest: bytes) -> str:
    """The Content-Digest header value for a SHA-256 digest."""
    return f"sha-256=:{base64.b64encode(digest).decode()}:"


def _decoded(value: str, header: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameter(f"Cannot read {header}: {value!r} is not base64") from None
