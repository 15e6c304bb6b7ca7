"""Multipart uploads of big files through the proxy: parts go straight to presigned S3 URLs."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import urllib.parse
from typing import Any

import httpx

from heron.client.http.transport import Transport
from heron.errors import HeronError, NotImplementedByServer, TemporarilyUnavailable

MPU_API = "/api/2.0/mlflow-artifacts/mpu"
# MLflow's defaults (MLFLOW_MULTIPART_UPLOAD_MINIMUM_FILE_SIZE, MLFLOW_MULTIPART_UPLOAD_CHUNK_SIZE).
MIN_FILE_BYTES = 500 * 1024 * 1024
PART_BYTES = 10 * 1024 * 1024
PART_THREADS = 4
_UNSUPPORTED = "Multipart upload is not supported"
_MD5_ETAG = re.compile(r"[0-9a-fA-F]{32}")


class Unsupported(Exception):
    """The server's store takes no multipart uploads: send the file in one PUT instead."""


def upload(
    transport: Transport, path: str, fd: int, size: int, part_bytes: int = PART_BYTES
) -> None:
    """Uploads `size` bytes of the open file `fd` to the repository path `path` in parts.

    Each part is read with `os.pread` (so parts go up on several threads with at most
    PART_THREADS parts in memory) and PUT to its presigned URL without the tracking server's
    credentials, with its MD5 for the storage to check. A failure aborts the upload.

    Raises:
        Unsupported: the server answered MLflow's "not supported" (local stores).
    """
    quoted = urllib.parse.quote(path, safe="/")
    num_parts = max(1, -(-size // part_bytes))
    try:
        created = transport.post(
            f"{MPU_API}/create/{quoted}", {"path": path, "num_parts": num_parts}
        )
    except NotImplementedByServer as exc:
        if str(exc).startswith(_UNSUPPORTED):
            raise Unsupported(str(exc)) from None
        raise
    upload_id = str(created["upload_id"])
    credentials = sorted(created.get("credentials", []), key=lambda c: int(c["part_number"]))
    try:
        with httpx.Client(timeout=transport.timeout_s) as storage:
            etags = send_parts(storage, credentials, fd, size, part_bytes)
        parts = [{"part_number": n, "etag": etag} for n, etag in etags]
        transport.post(
            f"{MPU_API}/complete/{quoted}", {"path": path, "upload_id": upload_id, "parts": parts}
        )
    except BaseException:
        # The original error matters more; S3's lifecycle rules clean up stragglers.
        with contextlib.suppress(HeronError):
            transport.post(f"{MPU_API}/abort/{quoted}", {"path": path, "upload_id": upload_id})
        raise


def send_parts(
    storage: httpx.Client, credentials: list[Any], fd: int, size: int, part_bytes: int
) -> list[tuple[int, str]]:
    def send(credential: Any) -> tuple[int, str]:
        number = int(credential["part_number"])
        offset = (number - 1) * part_bytes
        data = os.pread(fd, min(part_bytes, size - offset), offset)
        md5 = hashlib.md5(data, usedforsecurity=False).digest()
        # The storage checks the part against its Content-MD5 (S3 answers BadDigest)...
        headers = {
            **(credential.get("headers") or {}),
            "Content-MD5": base64.b64encode(md5).decode(),
        }
        try:
            response = storage.put(str(credential["url"]), content=data, headers=headers)
        except httpx.TransportError as exc:
            raise TemporarilyUnavailable(f"Could not upload part {number}: {exc}") from None
        if not response.is_success:
            raise TemporarilyUnavailable(
                f"The storage refused part {number}: {response.status_code} {response.text[:200]}"
            )
        etag = response.headers.get("ETag", "")
        # ...and a plain part's ETag is its MD5: a store that ignored the header is caught here.
        if _MD5_ETAG.fullmatch(etag.strip('"')) and etag.strip('"').lower() != md5.hex():
            raise TemporarilyUnavailable(
                f"Part {number} arrived changed (the storage's ETag {etag} is not its MD5): "
                "upload the file again"
            )
        return number, etag

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(PART_THREADS) as pool:
        return list(pool.map(send, credentials))
