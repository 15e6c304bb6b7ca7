"""Every file under a directory of an artifact repository, depth first, page by page."""

from __future__ import annotations

from collections.abc import Iterator

from heron.entities import FileInfo
from heron.store.artifacts.repository import ArtifactRepository


def walk_files(repository: ArtifactRepository, path: str = "") -> Iterator[FileInfo]:
    """The files (never directories) under `path`, their paths relative to the root. Only
    one listing page per level is held at a time, so any tree size is fine."""
    token: str | None = None
    while True:
        page = repository.list(path, max_results=1000, page_token=token)
        for info in page.items:
            if info.is_dir:
                yield from walk_files(repository, info.path)
            else:
                yield info
        token = page.next_page_token
        if not token:
            return
