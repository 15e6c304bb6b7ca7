"""ArtifactLocations: which repository holds an artifact URI, confined to the configured roots."""

from __future__ import annotations

from collections.abc import Sequence

from heron.errors import InvalidParameter
from heron.store.artifacts import paths
from heron.store.artifacts.destination import open_artifact_repository
from heron.store.artifacts.repository import ArtifactRepository

_FILE_SCHEME = "file://"


class ArtifactLocations:
    """`mlflow-artifacts:` URIs resolve in the proxy's `destination`; any other URI must lie
    inside one of `roots` (the roots experiments may use), and resolves in a repository opened
    on that root, so nothing outside a root can be reached through it."""

    def __init__(self, destination: str | None, roots: Sequence[str]) -> None:
        self._destination = destination
        self._roots = [
            _plain(root).rstrip("/") for root in roots if not paths.is_proxied(root) and root
        ]
        self._repositories: dict[str, ArtifactRepository] = {}

    def locate(self, uri: str) -> tuple[ArtifactRepository, str]:
        """The repository holding `uri` and the path of `uri` inside it ("" for the root).

        Raises:
            InvalidParameter: `uri` is outside every configured root, or its path is unsafe.
        """
        if paths.is_proxied(uri):
            if self._destination is None:
                raise InvalidParameter(f"{uri!r} is in the artifact proxy, which is not configured")
            return self._repository(self._destination), paths.proxied_path(uri)
        plain = _plain(uri)
        for root in self._roots:
            if plain == root or plain.startswith(root + "/"):
                return self._repository(root), paths.clean(plain[len(root) :].lstrip("/"))
        raise InvalidParameter(f"{uri!r} is outside the configured artifact roots")

    def _repository(self, root: str) -> ArtifactRepository:
        repository = self._repositories.get(root)
        if repository is None:
            repository = self._repositories[root] = open_artifact_repository(root)
        return repository


def _plain(uri: str) -> str:
    """`file:///data/x` and `/data/x` name the same place."""
    return uri[len(_FILE_SCHEME) :] if uri.startswith(_FILE_SCHEME) else uri
