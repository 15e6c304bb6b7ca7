"""Artifact repositories: where files live (local disk, S3), behind one Protocol."""

from heron.store.artifacts.destination import open_artifact_repository
from heron.store.artifacts.local import LocalArtifactRepository
from heron.store.artifacts.repository import (
    ArtifactRepository,
    FileStream,
    MultipartArtifactRepository,
    MultipartUpload,
    PartCredential,
    supports_multipart,
)
from heron.store.artifacts.s3 import S3ArtifactRepository

__all__ = [
    "ArtifactRepository",
    "FileStream",
    "LocalArtifactRepository",
    "MultipartArtifactRepository",
    "MultipartUpload",
    "PartCredential",
    "S3ArtifactRepository",
    "open_artifact_repository",
    "supports_multipart",
]
