"""Artifacts on the client side: the artifact service in process, path checks, tree transfers."""

from __future__ import annotations

import functools
import os
import posixpath
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from heron.client.backend import ArtifactApi
from heron.entities import FileInfo
from heron.errors import InvalidParameter
from heron.store.artifacts import paths

if TYPE_CHECKING:
    from heron.services.artifacts import ArtifactService

CHUNK_SIZE = 1 << 20
TRANSFER_THREADS = 8
RUNS_SCHEME = "runs:"


class ServiceArtifacts:
    """Artifacts written and read in this process, through the artifact service.

    `mlflow-artifacts:` URIs resolve under the service's destination (the data directory's
    artifacts root, where a server on the same directory serves them from); any other
    artifact URI (a path, `file://`, `s3://bucket/prefix`) is a repository of its own, as
    MLflow's client does when a server hands out storage URIs instead of proxying."""

    def __init__(self, service: ArtifactService) -> None:
        self._service = service

    def put(self, artifact_uri: str, path: str, content: BinaryIO | Iterable[bytes]) -> None:
        self._service.write_artifact(artifact_uri, path, chunks_of(content))

    def put_many(self, artifact_uri: str, files: Sequence[tuple[Path, str]]) -> None:
        put_each(self, artifact_uri, files)

    def list(self, artifact_uri: str, path: str = "") -> list[FileInfo]:
        return self._service.list_all_artifacts(artifact_uri, path)

    def read(self, artifact_uri: str, path: str) -> Iterator[bytes]:
        return self._service.read_artifact(artifact_uri, path, chunk_size=CHUNK_SIZE)


def chunks_of(content: BinaryIO | Iterable[bytes]) -> Iterator[bytes]:
    """A file object (read in 1 MiB chunks) or an iterable of bytes, as chunks."""
    read = getattr(content, "read", None)
    if read is None:
        return iter(content)
    return iter(lambda: bytes(read(CHUNK_SIZE)), b"")


# Paths and URIs


def artifact_dir(artifact_path: str | None) -> str:
    """A client-given directory under the run's root ("" for the root itself), checked.

    Raises:
        InvalidParameter: an absolute path, '..' segments, backslashes or NUL bytes.
    """
    return paths.clean(artifact_path) if artifact_path else ""


def artifact_file(name: str) -> str:
    """A client-given file path under the run's root, checked; it must name a file."""
    cleaned = paths.clean(name) if name else ""
    if not cleaned:
        raise InvalidParameter(f"Invalid artifact file {name!r}: it needs a file name")
    return cleaned


def split_uri(artifact_uri: str, run_artifact_uri: Callable[[str], str]) -> tuple[str, str]:
    """(a directory URI, a path under it) for an artifact URI.

    `runs:/<run_id>/<path>` is `<path>` under the run's `artifact_uri` (looked up with
    `run_artifact_uri(run_id)`), so listed paths are relative to the run's root as usual;
    other URIs are split at their last "/"."""
    if artifact_uri.startswith(RUNS_SCHEME):
        rest = artifact_uri[len(RUNS_SCHEME) :].lstrip("/")
        run_id, _, path = rest.partition("/")
        if not run_id:
            raise InvalidParameter(f"{artifact_uri!r} names no run: use runs:/<run_id>/<path>")
        return run_artifact_uri(run_id), paths.clean(path)
    parent, _, name = artifact_uri.rstrip("/").rpartition("/")
    if not parent or parent.endswith(":"):  # "mlflow-artifacts:/x": the root and one name
        parent += "/"
    return parent, paths.clean(name)


# Uploads


def upload_file(
    api: ArtifactApi, artifact_uri: str, local_path: str | os.PathLike[str], path: str
) -> None:
    with open(local_path, "rb") as source:
        api.put(artifact_uri, path, source)


def upload_tree(
    api: ArtifactApi, artifact_uri: str, local_dir: str | os.PathLike[str], artifact_path: str
) -> int:
    """Every file under `local_dir` (nested) to `artifact_path`, several at once; the count."""
    root = Path(local_dir)
    if not root.is_dir():
        raise InvalidParameter(f"{str(local_dir)!r} is not a directory")
    files: list[tuple[Path, str]] = []
    for directory, _, names in os.walk(root):
        relative = Path(directory).relative_to(root).as_posix()
        prefix = paths.join(artifact_path, "" if relative == "." else relative)
        files.extend(
            (Path(directory) / name, f"{prefix}/{name}" if prefix else name)
            for name in sorted(names)
        )
    api.put_many(artifact_uri, files)
    return len(files)


def put_each(api: ArtifactApi, artifact_uri: str, files: Sequence[tuple[Path, str]]) -> None:
    """Each (local file, artifact path) in a call of its own, several at once."""
    in_parallel([functools.partial(upload_file, api, artifact_uri, *file) for file in files])


def batches(
    files: Sequence[tuple[Path, str]], file_bytes: int, body_bytes: int
) -> tuple[list[list[tuple[Path, str]]], list[tuple[Path, str]]]:
    """(groups of the files up to `file_bytes` each, holding up to about `body_bytes` a group;
    the bigger files)."""
    groups: list[list[tuple[Path, str]]] = []
    big: list[tuple[Path, str]] = []
    group: list[tuple[Path, str]] = []
    group_bytes = 0
    for file in files:
        size = file[0].stat().st_size
        if size > file_bytes:
            big.append(file)
            continue
        if group and group_bytes + size > body_bytes:
            groups.append(group)
            group, group_bytes = [], 0
        group.append(file)
        group_bytes += size
    if group:
        groups.append(group)
    return groups, big


# Downloads


def list_all(api: ArtifactApi, artifact_uri: str, path: str) -> list[FileInfo]:
    """One level under `path`, each entry checked to be a child of `path` (a server may lie)."""
    entries = api.list(artifact_uri, path)
    for info in entries:
        if posixpath.dirname(paths.clean(info.path)) != path:
            raise InvalidParameter(f"The listing of {path!r} holds {info.path!r}")
    return entries


def download(
    api: ArtifactApi, artifact_uri: str, path: str, dst_path: str | os.PathLike[str] | None
) -> str:
    """Downloads the file or whole tree at `path` ("" for everything) to `<dst_path>/<path>`
    and returns that local path. With no `dst_path`, a new temporary directory is used.

    Raises:
        NotFound: nothing is there.
    """
    destination = Path(dst_path) if dst_path is not None else Path(tempfile.mkdtemp())
    destination = destination.resolve()
    destination.mkdir(parents=True, exist_ok=True)
    local = destination / path if path else destination
    pending = list_all(api, artifact_uri, path)
    if path and not pending:  # a file lists as nothing: fetch it (NotFound if absent)
        _download_file(api, artifact_uri, path, local)
        return str(local)
    local.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    while pending:  # the listing first, one request per directory...
        info = pending.pop()
        child = paths.clean(info.path)
        if info.is_dir:
            (destination / child).mkdir(parents=True, exist_ok=True)
            pending.extend(list_all(api, artifact_uri, child))
        else:
            files.append(child)
    # ...then the files, several at once.
    in_parallel(
        [functools.partial(_download_file, api, artifact_uri, f, destination / f) for f in files]
    )
    return str(local)


def in_parallel(calls: Sequence[Callable[[], None]]) -> None:
    """Every call, on up to TRANSFER_THREADS threads; raises the first error."""
    if len(calls) <= 1:
        for call in calls:
            call()
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(TRANSFER_THREADS, len(calls))) as pool:
        futures = [pool.submit(call) for call in calls]
        for future in futures:
            future.result()


def _download_file(api: ArtifactApi, artifact_uri: str, path: str, target: Path) -> None:
    chunks = api.read(artifact_uri, path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def read_bytes(api: ArtifactApi, artifact_uri: str, path: str) -> bytes:
    """A whole file in memory: for the small files `load_text`/`load_dict` read."""
    return b"".join(api.read(artifact_uri, path))
