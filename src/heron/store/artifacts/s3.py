"""S3ArtifactRepository: artifacts as objects under one bucket prefix, through boto3."""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from heron.entities import FileInfo, Page
from heron.errors import InvalidParameter, NotFound
from heron.store.artifacts import paths
from heron.store.artifacts.ranges import ByteRange, ContentRange, RangeNotSatisfiable
from heron.store.artifacts.repository import FileStream, MultipartUpload, PartCredential

# boto3 switches to multipart above this size and sends parts of it.
PART_SIZE = 16 * 1024 * 1024
_DELETE_BATCH = 1000  # S3's DeleteObjects limit
MAX_PARTS = 10_000  # S3's limit on the parts of one upload


class S3ArtifactRepository:
    """Objects `s3://bucket/prefix/<path>`. Credentials come from boto3's usual chain
    (environment variables, profiles, instance roles); `endpoint_url` points it at any
    S3-compatible server. boto3 is imported on first use only."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
    ) -> None:
        if not bucket:
            raise InvalidParameter("An S3 artifact destination needs a bucket name")
        self.bucket = bucket
        self.prefix = paths.clean(prefix)
        self.endpoint_url = endpoint_url
        self.region = region
        self._client: Any = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"S3ArtifactRepository('s3://{self.bucket}/{self.prefix}')"

    @property
    def client(self) -> Any:
        """The boto3 S3 client (thread-safe), made on first use."""
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = _make_client(self.endpoint_url, self.region)
        return self._client

    def _key(self, rel: str) -> str:
        return f"{self.prefix}/{rel}" if self.prefix and rel else (self.prefix or rel)

    def _dir_prefix(self, rel: str) -> str:
        key = self._key(rel)
        return f"{key}/" if key else ""

    def _has_children(self, rel: str) -> bool:
        answer = self.client.list_objects_v2(
            Bucket=self.bucket, Prefix=self._dir_prefix(rel), MaxKeys=1
        )
        return bool(answer.get("KeyCount", 0))

    # -- the ArtifactRepository Protocol

    def write(self, path: str, chunks: Iterable[bytes]) -> FileInfo:
        rel = paths.clean(path)
        if not rel:
            raise InvalidParameter("An artifact needs a file name")
        stream = _ChunkReader(chunks)
        from boto3.s3.transfer import TransferConfig

        config = TransferConfig(multipart_threshold=PART_SIZE, multipart_chunksize=PART_SIZE)
        self.client.upload_fileobj(stream, self.bucket, self._key(rel), Config=config)
        return FileInfo(path=rel, is_dir=False, file_size=stream.size)

    def read(
        self, path: str, *, chunk_size: int = 1 << 20, byte_range: ByteRange | None = None
    ) -> FileStream:
        """Starts the GET now (so NotFound is raised by the call), streams the body lazily. A
        range is S3's own (a ranged GET): only its bytes come over the network."""
        rel = paths.clean(path)
        errors = self.client.exceptions
        request = {"Bucket": self.bucket, "Key": self._key(rel)}
        if byte_range is not None:
            request["Range"] = byte_range.header()
        try:
            answer = self.client.get_object(**request)
        except (errors.NoSuchKey, errors.ClientError) as exc:
            if byte_range is not None and _error_code(exc) == "InvalidRange":
                size = self.client.head_object(Bucket=self.bucket, Key=self._key(rel))
                raise RangeNotSatisfiable(int(size["ContentLength"])) from None
            if not _is_missing(exc):
                raise
            if not rel or self._has_children(rel):
                raise InvalidParameter(f"Artifact {rel!r} is a directory, not a file") from None
            raise NotFound(f"Artifact {rel!r} does not exist") from None
        size = int(answer["ContentLength"])
        if byte_range is None:
            return _BodyChunks(answer["Body"], size, chunk_size)
        content_range = _content_range(answer.get("ContentRange"), size, byte_range)
        return _BodyChunks(answer["Body"], size, chunk_size, content_range)

    def list(
        self, path: str = "", *, max_results: int = 1000, page_token: str | None = None
    ) -> Page[FileInfo]:
        rel = paths.clean(path)
        prefix = self._dir_prefix(rel)
        request: dict[str, Any] = {
            "Bucket": self.bucket,
            "Prefix": prefix,
            "Delimiter": "/",
            "MaxKeys": max_results,
        }
        if page_token:
            request["ContinuationToken"] = page_token
        try:
            answer = self.client.list_objects_v2(**request)
        except self.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "InvalidArgument":
                raise InvalidParameter(f"Invalid page_token {page_token!r}") from None
            raise
        items: list[FileInfo] = []
        for common in answer.get("CommonPrefixes", []):
            name = common["Prefix"][len(prefix) :].rstrip("/")
            if name:
                items.append(FileInfo(path=_child(rel, name), is_dir=True))
        for obj in answer.get("Contents", []):
            name = obj["Key"][len(prefix) :]
            if name and "/" not in name:  # skip a "directory marker" object
                items.append(FileInfo(path=_child(rel, name), is_dir=False, file_size=obj["Size"]))
        items.sort(key=lambda info: info.path)
        token = answer.get("NextContinuationToken") if answer.get("IsTruncated") else None
        return Page(items, token)

    def delete(self, path: str) -> None:
        rel = paths.clean(path)
        if not rel:
            raise InvalidParameter("Refusing to delete the whole artifact root")
        self.client.delete_object(Bucket=self.bucket, Key=self._key(rel))
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self._dir_prefix(rel)
        )
        batch: list[dict[str, str]] = []
        for page in pages:
            for obj in page.get("Contents", []):
                batch.append({"Key": obj["Key"]})
                if len(batch) == _DELETE_BATCH:
                    _delete_keys(self.client, self.bucket, batch)
                    batch = []
        if batch:
            _delete_keys(self.client, self.bucket, batch)

    # -- multipart upload: the client PUTs each part to a presigned URL, straight to S3

    def create_multipart_upload(
        self, path: str, num_parts: int, *, expiration_s: int = 3600
    ) -> MultipartUpload:
        rel = paths.clean(path)
        if not rel:
            raise InvalidParameter("An artifact needs a file name")
        if not 1 <= num_parts <= MAX_PARTS:
            raise InvalidParameter(f"num_parts must be between 1 and {MAX_PARTS}, got {num_parts}")
        key = self._key(rel)
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        credentials = [
            PartCredential(
                part_number=number,
                url=self.client.generate_presigned_url(
                    "upload_part",
                    Params={
                        "Bucket": self.bucket,
                        "Key": key,
                        "UploadId": upload_id,
                        "PartNumber": number,
                    },
                    ExpiresIn=expiration_s,
                ),
            )
            for number in range(1, num_parts + 1)
        ]
        return MultipartUpload(upload_id=upload_id, credentials=credentials)

    def complete_multipart_upload(
        self, path: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        with _upload_errors(upload_id):
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=self._key(_file_name(path)),
                UploadId=upload_id,
                MultipartUpload={
                    "Parts": [
                        {"PartNumber": number, "ETag": etag} for number, etag in sorted(parts)
                    ]
                },
            )

    def abort_multipart_upload(self, path: str, upload_id: str) -> None:
        with _upload_errors(upload_id):
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self._key(_file_name(path)), UploadId=upload_id
            )


def _make_client(endpoint_url: str | None, region: str | None) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(
        # A custom endpoint (MinIO, SeaweedFS, ...) rarely has virtual-host bucket names.
        s3={"addressing_style": "path"} if endpoint_url else {},
        retries={"mode": "standard"},
        # SigV4: a presigned part URL then signs only the host, so a client may add the part's
        # Content-MD5 for the store to check (SigV2 would sign that header too).
        signature_version="s3v4",
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return boto3.session.Session().client(
        "s3", endpoint_url=endpoint_url, region_name=region, config=config
    )


def _delete_keys(client: Any, bucket: str, batch: list[dict[str, str]]) -> None:
    client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})


def _file_name(path: str) -> str:
    rel = paths.clean(path)
    if not rel:
        raise InvalidParameter("An artifact needs a file name")
    return rel


# What S3 answers for an upload id or parts a client got wrong (anything else is S3's own
# trouble, and stays an error of the server).
_UPLOAD_MISSING = ("NoSuchUpload", "404", "NotFound")
_UPLOAD_INVALID = (
    "InvalidPart", "InvalidPartOrder", "EntityTooSmall", "InvalidArgument", "InvalidRequest",
    "MalformedXML",
)  # fmt: skip


@contextlib.contextmanager
def _upload_errors(upload_id: str) -> Iterator[None]:
    """S3's refusals of a client's multipart upload id or parts, as Heron's errors."""
    try:
        yield
    except Exception as exc:
        response: dict[str, Any] = getattr(exc, "response", None) or {}
        code = response.get("Error", {}).get("Code")
        if code in _UPLOAD_MISSING:
            raise NotFound(f"No multipart upload {upload_id[:100]!r} is in progress") from None
        if code in _UPLOAD_INVALID:
            message = response.get("Error", {}).get("Message", code)
            raise InvalidParameter(f"S3 refused the multipart upload: {message}") from None
        raise


def _error_code(exc: Exception) -> str | None:
    response: dict[str, Any] = getattr(exc, "response", {}) or {}
    code: str | None = response.get("Error", {}).get("Code")
    return code


def _is_missing(exc: Exception) -> bool:
    return _error_code(exc) in ("NoSuchKey", "404", "NotFound")


def _content_range(header: str | None, length: int, asked: ByteRange) -> ContentRange:
    """What a ranged GET answered (`bytes a-b/total`). A store that sent the whole object
    instead (no Content-Range) is answered the same way only if the range takes all of it."""
    if header:
        span, _, total = header.removeprefix("bytes ").partition("/")
        first, _, last = span.partition("-")
        return ContentRange(int(first), int(last) + 1, int(total))
    start, stop = asked.within(length)
    if (start, stop) != (0, length):
        raise InvalidParameter("The S3 store ignored the byte range: fetch the whole file")
    return ContentRange(0, length, length)


def _child(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel else name


class _ChunkReader(io.RawIOBase):
    """A read-only, non-seekable file over an iterable of chunks (what upload_fileobj takes)."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._pending = memoryview(b"")
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk)
            self.size += len(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class _BodyChunks:
    """Iterates a botocore StreamingBody in chunks; closes it at the end (or on close())."""

    def __init__(
        self, body: Any, size: int, chunk_size: int, content_range: ContentRange | None = None
    ) -> None:
        self._body = body
        self.size = size
        self.content_range = content_range
        self._chunks = body.iter_chunks(chunk_size)
        self._ended = False

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            chunk: bytes = next(self._chunks)
        except StopIteration:
            self._ended = True
            self._body.close()
            raise
        return chunk

    def next_at_hand(self) -> bytes | None:
        return b"" if self._ended else None  # every chunk comes over the network

    def close(self) -> None:
        self._body.close()
