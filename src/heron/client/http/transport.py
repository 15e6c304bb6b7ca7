"""The HTTP transport: one keep-alive connection pool to a tracking server, with retries, auth
from MLflow's environment variables, streamed uploads and downloads, and error bodies turned
back into the same `heron.errors` classes the services raise."""

from __future__ import annotations

import atexit
import base64
import hashlib
import io
import mimetypes
import os
import threading
import time
import weakref
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, BinaryIO

import httpx
import orjson

from heron import integrity, mlflow_json
from heron.errors import TemporarilyUnavailable, error_for_code

API = "/api/2.0/mlflow"
ARTIFACTS_API = "/api/2.0/mlflow-artifacts/artifacts"
BATCH_API = "/api/2.0/heron/artifacts/batch"  # heron.server.mlflow.artifacts.BATCH_PREFIXES
_RETRY_STATUSES = frozenset({429, 502, 503, 504})
_MAX_ATTEMPTS = 3
_HASH_CHUNK = 1 << 20
_SMALL_FILE = 1 << 20  # bytes: sent from memory in one piece
_FALLBACK_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "ENDPOINT_NOT_FOUND",
    503: "TEMPORARILY_UNAVAILABLE",
}


class Transport:
    """One keep-alive connection pool to a tracking server; turns error bodies into errors.

    Its connections are closed at interpreter exit even when its client never was (a
    `HeronClient()` a script drops), so no socket is left to the garbage collector; one used
    again after `close()` reconnects."""

    def __init__(self, base_url: str, *, timeout_s: float = 120.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._lock = threading.Lock()
        self._pool = self._connect()
        _OPEN.add(self)

    def _connect(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            timeout=self.timeout_s,
            headers=_auth_headers(),
            follow_redirects=False,
        )

    @property
    def _client(self) -> httpx.Client:
        """The connection pool, opened again if it was closed."""
        if self._pool.is_closed:
            with self._lock:
                if self._pool.is_closed:
                    self._pool = self._connect()
        return self._pool

    def get(self, path: str, params: Mapping[str, Any]) -> mlflow_json.Json:
        query = {k: v for k, v in params.items() if v is not None}
        return self._send("GET", path, params=query)

    def post(self, path: str, body: Mapping[str, Any]) -> mlflow_json.Json:
        return self.send_json("POST", path, body)

    def send_json(self, method: str, path: str, body: Mapping[str, Any]) -> mlflow_json.Json:
        """A JSON body with any method (MLflow's PATCH and DELETE routes take one too)."""
        payload = orjson.dumps({k: v for k, v in body.items() if v is not None})
        return self._send(
            method, path, content=payload, headers={"Content-Type": "application/json"}
        )

    def send_bytes(self, path: str, content: bytes, headers: Mapping[str, str]) -> mlflow_json.Json:
        """POSTs a raw body (an OTLP export) with its own headers; errors as for JSON calls."""
        return self._send("POST", path, content=content, headers=dict(headers))

    def _send(self, method: str, path: str, **kwargs: Any) -> mlflow_json.Json:
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                response = self._client.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                raise TemporarilyUnavailable(
                    f"Could not reach the tracking server at {self.base_url}: {exc}"
                ) from None
            if response.status_code in _RETRY_STATUSES and attempt < _MAX_ATTEMPTS:
                time.sleep(0.2 * 2**attempt)
                continue
            return _body_or_raise(response)
        raise AssertionError("unreachable")  # pragma: no cover

    def send_once(self, path: str, content: bytes, headers: Mapping[str, str]) -> httpx.Response:
        """POSTs a raw body once (no retry: a model's answer is not assumed idempotent) and
        returns the successful response whatever its content; errors as for JSON calls."""
        try:
            response = self._client.post(path, content=content, headers=dict(headers))
        except httpx.TransportError as exc:
            raise TemporarilyUnavailable(
                f"Could not reach the tracking server at {self.base_url}: {exc}"
            ) from None
        if not response.is_success:
            _body_or_raise(response)
        return response

    def upload(self, path: str, content: BinaryIO | Iterable[bytes]) -> None:
        """PUTs a raw body streamed from `content`; a seekable file is retried like a call."""
        file = content if hasattr(content, "seek") else None
        seekable = isinstance(file, io.IOBase) and file.seekable()
        start = file.tell() if isinstance(file, io.IOBase) and seekable else 0
        if isinstance(file, io.IOBase) and seekable and _size_from(file, start) <= _SMALL_FILE:
            content = file.read()  # one read and one send, not a stream of pieces
        headers = {"Content-Type": mimetypes.guess_type(path)[0] or "application/octet-stream"}
        digest = _sha256_of(content, start if seekable else None)
        if digest is not None:  # the server checks it before it keeps the file
            headers["Content-Digest"] = integrity.sha256_header(digest)
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                response = self._client.put(path, content=content, headers=headers)
            except httpx.TransportError as exc:
                raise TemporarilyUnavailable(
                    f"Could not upload to the tracking server at {self.base_url}: {exc}"
                ) from None
            retry = response.status_code in _RETRY_STATUSES and attempt < _MAX_ATTEMPTS
            if retry and isinstance(file, io.IOBase) and seekable:
                file.seek(start)
                time.sleep(0.2 * 2**attempt)
                continue
            if not response.is_success:
                _body_or_raise(response)
            return

    def download(self, path: str) -> Iterator[bytes]:
        """Streams a GET's body; the request is sent (and errors raised) by this call."""
        request = self._client.build_request("GET", path)
        try:
            response = self._client.send(request, stream=True)
        except httpx.TransportError as exc:
            raise TemporarilyUnavailable(
                f"Could not reach the tracking server at {self.base_url}: {exc}"
            ) from None
        if not response.is_success:
            response.read()
            response.close()
            _body_or_raise(response)
        return _stream(response)

    def close(self) -> None:
        with self._lock:
            self._pool.close()


# Every open transport, closed at exit. Where this hook runs before the fluent API's (which
# end the active runs through their transports, then close them), a transport used after it
# reconnects and is closed again by those hooks.
_OPEN: weakref.WeakSet[Transport] = weakref.WeakSet()


@atexit.register
def _close_open_transports() -> None:
    for transport in list(_OPEN):
        transport.close()


def _size_from(file: io.IOBase, start: int) -> int:
    """How many bytes `file` holds from `start` on; leaves it at `start`."""
    end = file.seek(0, io.SEEK_END)
    file.seek(start)
    return end - start


def _sha256_of(content: BinaryIO | Iterable[bytes], start: int | None) -> bytes | None:
    """The digest of what an upload will send: bytes, or a seekable file read from `start`
    (and put back there); None for a stream that can be read only once."""
    if isinstance(content, bytes | bytearray | memoryview):
        return hashlib.sha256(content).digest()
    if start is None or not isinstance(content, io.IOBase):
        return None
    digest = hashlib.sha256()
    while chunk := content.read(_HASH_CHUNK):
        digest.update(chunk)
    content.seek(start)
    return digest.digest()


def _stream(response: httpx.Response) -> Iterator[bytes]:
    try:
        yield from response.iter_bytes()
    finally:
        response.close()


def _auth_headers() -> dict[str, str]:
    """MLflow's environment variables for basic or bearer auth, so the same setup works."""
    token = os.environ.get("HERON_TRACKING_TOKEN") or os.environ.get("MLFLOW_TRACKING_TOKEN")
    if token:
        return {"Authorization": f"Bearer {token}"}
    user = os.environ.get("MLFLOW_TRACKING_USERNAME")
    if user:
        password = os.environ.get("MLFLOW_TRACKING_PASSWORD", "")
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {encoded}"}
    return {}


def _body_or_raise(response: httpx.Response) -> mlflow_json.Json:
    try:
        body = orjson.loads(response.content) if response.content else {}
    except orjson.JSONDecodeError:
        body = None
    if response.is_success and isinstance(body, dict):
        return body
    if isinstance(body, dict) and "error_code" in body:
        raise error_for_code(str(body["error_code"]), str(body.get("message", "")))
    code = _FALLBACK_CODES.get(response.status_code, "INTERNAL_ERROR")
    text = response.text.strip()[:200] or response.reason_phrase
    raise error_for_code(
        code,
        f"{response.request.method} {response.request.url.path} answered "
        f"{response.status_code}: {text}",
    )
