"""ArtifactService: the one way to the artifact repositories, for the server's proxy, run and
logged-model files, the UI's browser and previews, and the SDK in process.

Every file is named by an artifact URI and a path under it. `mlflow-artifacts:` URIs (the
proxy's) resolve in the artifact destination; any other URI (`s3://…`, a path, `file://…`:
a run's root that the server assigned inside its configured roots, or a URI the SDK's user
gave) is a repository of its own. Here the path rules apply (`paths.clean`: no `..`, no
absolute paths, no escapes), uploads are checked against their announced size and digests
as they stream (`integrity.verified`), and the authorizer is asked about every file."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping, Sequence

from heron import integrity
from heron.entities import FileInfo, Page
from heron.errors import InvalidParameter, NotImplementedByServer
from heron.services.access import Action, Authorizer, authorize
from heron.store.artifacts import paths
from heron.store.artifacts.batch import records
from heron.store.artifacts.destination import check_destination, open_artifact_repository
from heron.store.artifacts.ranges import ByteRange
from heron.store.artifacts.repository import (
    ArtifactRepository,
    FileStream,
    MultipartArtifactRepository,
    MultipartUpload,
    supports_multipart,
)

PROXY_ROOT = paths.PROXY_SCHEME + ":"  # the URI of the artifact destination's root
LISTING_PAGE = 1000
_MAX_OPEN = 64  # repositories kept open (one per artifact root seen)


MULTIPART_UNSUPPORTED = "Multipart upload is not supported for the current artifact repository"


class ArtifactService:
    """Files under artifact URIs. `destination` is where `mlflow-artifacts:` URIs live (the
    server's `--artifacts-destination`; None when the server serves no artifacts). It is
    checked at once and opened on first use."""

    def __init__(
        self,
        authorizer: Authorizer,
        *,
        destination: str | None,
        wrap: Callable[[ArtifactRepository], ArtifactRepository] | None = None,
    ) -> None:
        if destination is not None:
            check_destination(destination)
        self._authorizer = authorizer
        self._destination = destination
        self._wrap = wrap  # encryption at rest, around every repository opened
        self._open: dict[str, ArtifactRepository] = {}
        self._lock = threading.Lock()

    @property
    def serves_proxy(self) -> bool:
        """Whether `mlflow-artifacts:` URIs can be reached (a destination is configured)."""
        return self._destination is not None

    @property
    def multipart_uploads(self) -> bool:
        """Whether the destination takes multipart uploads straight from clients (S3)."""
        return self._destination is not None and supports_multipart(
            self._repository(self._destination)
        )

    # -- reading

    def list_artifacts(
        self,
        artifact_uri: str,
        path: str = "",
        *,
        max_results: int = LISTING_PAGE,
        page_token: str | None = None,
    ) -> Page[FileInfo]:
        """One page of one directory level under `path`; the paths in it are relative to
        `artifact_uri`. An absent directory is an empty page."""
        repository, base, full = self._locate("read", artifact_uri, path)
        page = repository.list(full, max_results=max_results, page_token=page_token)
        if not base:
            return page
        items = [
            FileInfo(
                path=paths.relative_to(info.path, base),
                is_dir=info.is_dir,
                file_size=info.file_size,
            )
            for info in page
        ]
        return Page(items, page.next_page_token)

    def list_all_artifacts(self, artifact_uri: str, path: str = "") -> list[FileInfo]:
        """Every entry of one directory level (all its pages), as `list_artifacts`."""
        found: list[FileInfo] = []
        token: str | None = None
        while True:
            page = self.list_artifacts(artifact_uri, path, page_token=token)
            found.extend(page)
            token = page.next_page_token
            if not token:
                return found

    def read_artifact(
        self,
        artifact_uri: str,
        path: str,
        *,
        chunk_size: int = 1 << 20,
        byte_range: ByteRange | None = None,
    ) -> FileStream:
        """Streams one file, or the bytes `byte_range` takes of it (of an encrypted file, only
        the segments it covers are read and decrypted). Raises NotFound when there is none,
        InvalidParameter when `path` is a directory or unsafe, RangeNotSatisfiable when the
        range takes no byte of it."""
        repository, _, full = self._locate("read", artifact_uri, path)
        return repository.read(full, chunk_size=chunk_size, byte_range=byte_range)

    # -- writing

    def write_artifact(
        self,
        artifact_uri: str,
        path: str,
        chunks: Iterable[bytes],
        *,
        length: int | None = None,
        digests: Mapping[str, bytes] | None = None,
    ) -> FileInfo:
        """Stores one file from a stream of chunks. With `length` or `digests` (from the
        request's headers) the stream must match them, or the write fails before the file is
        committed (InvalidParameter)."""
        repository, _, full = self._locate("update", artifact_uri, path)
        return repository.write(full, _checked(chunks, length, digests))

    def write_batch(
        self,
        artifact_uri: str,
        path: str,
        body: Iterable[bytes],
        *,
        length: int | None = None,
        digests: Mapping[str, bytes] | None = None,
    ) -> int:
        """Stores each file of a batch body (`heron.store.artifacts.batch`: each record
        carries its own size and digest) under `path`; returns how many."""
        count = 0
        for name, content in records(_checked(body, length, digests)):
            self.write_artifact(artifact_uri, paths.join(path, paths.clean(name)), content)
            count += 1
        return count

    def delete_artifact(self, artifact_uri: str, path: str) -> None:
        """Removes a file or a whole directory tree; absent paths are fine."""
        repository, _, full = self._locate("delete", artifact_uri, path)
        repository.delete(full)

    # -- multipart uploads (clients send the parts straight to the storage)

    def create_multipart_upload(
        self, artifact_uri: str, path: str, num_parts: int
    ) -> MultipartUpload:
        repository, full = self._multipart(artifact_uri, path)
        return repository.create_multipart_upload(full, num_parts)

    def complete_multipart_upload(
        self, artifact_uri: str, path: str, upload_id: str, parts: Sequence[tuple[int, str]]
    ) -> None:
        repository, full = self._multipart(artifact_uri, path)
        repository.complete_multipart_upload(full, upload_id, parts)

    def abort_multipart_upload(self, artifact_uri: str, path: str, upload_id: str) -> None:
        repository, full = self._multipart(artifact_uri, path)
        repository.abort_multipart_upload(full, upload_id)

    # -- where a URI's files are

    def _multipart(self, artifact_uri: str, path: str) -> tuple[MultipartArtifactRepository, str]:
        repository, _, full = self._locate("update", artifact_uri, path)
        if not supports_multipart(repository):  # said after the caller's access is checked
            raise NotImplementedByServer(MULTIPART_UNSUPPORTED)
        return repository, full

    def _locate(
        self, action: Action, artifact_uri: str, path: str
    ) -> tuple[ArtifactRepository, str, str]:
        """(the repository, the URI's base path in it, `path` joined to the base), once the
        caller may `action` that file."""
        if paths.is_proxied(artifact_uri):
            if self._destination is None:
                raise InvalidParameter(
                    f"{artifact_uri!r} is served by the artifact proxy, which this server "
                    "has turned off"
                )
            repository = self._repository(self._destination)
            base = paths.proxied_path(artifact_uri)
        else:
            repository = self._repository(artifact_uri)
            base = ""
        full = paths.join(base, path)
        authorize(self._authorizer, action, "artifact", _location(artifact_uri, base, full))
        return repository, base, full

    def _repository(self, root: str) -> ArtifactRepository:
        repository = self._open.get(root)
        if repository is None:
            with self._lock:
                if len(self._open) >= _MAX_OPEN:
                    self._open.clear()
                opened = open_artifact_repository(root)
                if self._wrap is not None:
                    opened = self._wrap(opened)
                repository = self._open.setdefault(root, opened)
        return repository


def _checked(
    chunks: Iterable[bytes], length: int | None, digests: Mapping[str, bytes] | None
) -> Iterable[bytes]:
    if length is None and not digests:
        return chunks
    return integrity.verified(iter(chunks), length=length, digests=digests or {})


def _location(artifact_uri: str, base: str, full: str) -> str:
    """The file's own URI, which the authorizer is asked about: `mlflow-artifacts:/<path>`
    in the destination, else the URI with the path under it."""
    if paths.is_proxied(artifact_uri):
        return f"{PROXY_ROOT}/{full}"
    return f"{artifact_uri.rstrip('/')}/{full}" if full else artifact_uri
