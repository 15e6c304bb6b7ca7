"""Artifacts over HTTP: `mlflow-artifacts:` URIs through the server's proxy, other URIs
straight to their storage, as MLflow's client does."""

from __future__ import annotations

import functools
import io
import os
import posixpath
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

from heron.client import artifacts
from heron.client.artifacts import ServiceArtifacts
from heron.client.http import multipart
from heron.client.http.transport import ARTIFACTS_API, BATCH_API, Transport
from heron.entities import FileInfo
from heron.errors import HeronError
from heron.services.access import AllowAll
from heron.services.artifacts import ArtifactService
from heron.store.artifacts import batch, paths


class HttpArtifacts:
    """`mlflow-artifacts:` URIs through the server's proxy (`/api/2.0/mlflow-artifacts/...`),
    streamed both ways. Other artifact URIs (a server run with `--no-serve-artifacts` hands
    out storage URIs) are written and read directly, as MLflow's client does."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport
        self._direct = ServiceArtifacts(ArtifactService(AllowAll(), destination=None))
        self.multipart_min_bytes = multipart.MIN_FILE_BYTES
        self.part_bytes = multipart.PART_BYTES
        self._batches = True  # until the server shows it has no batch upload

    def put(self, artifact_uri: str, path: str, content: BinaryIO | Iterable[bytes]) -> None:
        """Big files go up in parts straight to the storage when the server's store takes
        multipart uploads (S3); otherwise, and for everything else, in one streamed PUT."""
        if not paths.is_proxied(artifact_uri):
            return self._direct.put(artifact_uri, path, content)
        opened = _file_from_start(content)
        if opened is not None and opened[1] >= self.multipart_min_bytes:
            full = paths.join(paths.proxied_path(artifact_uri), path)
            try:
                multipart.upload(self._t, full, *opened, self.part_bytes)
            except multipart.Unsupported:
                pass
            else:
                return None
        self._t.upload(_artifact_url(artifact_uri, path), content)
        return None

    def put_many(self, artifact_uri: str, files: Sequence[tuple[Path, str]]) -> None:
        """Small files go up in batches (Heron's batch upload, heron.store.artifacts.batch),
        the others one PUT each, several at once. A server with no batch upload (MLflow's)
        gets one PUT a file."""
        if not paths.is_proxied(artifact_uri):
            return self._direct.put_many(artifact_uri, files)
        groups, big = artifacts.batches(files, batch.FILE_BYTES, batch.BODY_BYTES)
        calls = [functools.partial(self._put_batch, artifact_uri, group) for group in groups]
        calls += [functools.partial(artifacts.upload_file, self, artifact_uri, *f) for f in big]
        artifacts.in_parallel(calls)
        return None

    def _put_batch(self, artifact_uri: str, files: Sequence[tuple[Path, str]]) -> None:
        if self._batches:
            body = bytearray()
            for local, path in files:
                content = local.read_bytes()
                body += batch.record_header(path, content)
                body += content
            base = paths.proxied_path(artifact_uri)
            try:
                self._t.upload(
                    f"{BATCH_API}/{urllib.parse.quote(base, safe='/')}", io.BytesIO(body)
                )
                return
            except HeronError as exc:
                if exc.code != "ENDPOINT_NOT_FOUND":
                    raise
                self._batches = False
        artifacts.put_each(self, artifact_uri, files)

    def list(self, artifact_uri: str, path: str = "") -> list[FileInfo]:
        if not paths.is_proxied(artifact_uri):
            return self._direct.list(artifact_uri, path)
        full = paths.join(paths.proxied_path(artifact_uri), path)
        found: list[FileInfo] = []
        token: str | None = None
        while True:
            # An empty page_token asks a Heron server for pages (MLflow's answers in one go).
            body = self._t.get(ARTIFACTS_API, {"path": full, "page_token": token or ""})
            for entry in body.get("files", ()):
                # MLflow compat: the proxy lists names relative to the listed directory.
                name = posixpath.basename(str(entry["path"]).rstrip("/"))
                size = entry.get("file_size")
                found.append(
                    FileInfo(
                        path=f"{path}/{name}" if path else name,
                        is_dir=bool(entry.get("is_dir", False)),
                        file_size=None if size is None else int(size),
                    )
                )
            token = body.get("next_page_token") or None
            if not token:
                return found

    def read(self, artifact_uri: str, path: str) -> Iterator[bytes]:
        if not paths.is_proxied(artifact_uri):
            return self._direct.read(artifact_uri, path)
        return self._t.download(_artifact_url(artifact_uri, path))


def _file_from_start(content: object) -> tuple[int, int] | None:
    """(descriptor, size) of a real file positioned at its start, else None."""
    if not isinstance(content, io.IOBase):
        return None
    try:
        if content.tell() != 0:
            return None
        fd = content.fileno()
        return fd, os.fstat(fd).st_size
    except (OSError, ValueError):  # io.UnsupportedOperation is an OSError
        return None


def _artifact_url(artifact_uri: str, path: str) -> str:
    full = paths.join(paths.proxied_path(artifact_uri), path)
    return f"{ARTIFACTS_API}/{urllib.parse.quote(full, safe='/')}"
