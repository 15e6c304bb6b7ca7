"""open_artifact_repository(destination): a local directory or s3://bucket/prefix."""

from __future__ import annotations

import os
import urllib.parse

from heron.errors import InvalidParameter
from heron.store.artifacts.local import LocalArtifactRepository
from heron.store.artifacts.repository import ArtifactRepository
from heron.store.artifacts.s3 import S3ArtifactRepository

ENDPOINT_ENV = ("MLFLOW_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")
REGION_ENV = ("AWS_REGION", "AWS_DEFAULT_REGION")


def open_artifact_repository(destination: str) -> ArtifactRepository:
    """The repository for `destination`: `s3://bucket/prefix`, `file:///path` or a local path.

    For S3 the endpoint comes from `MLFLOW_S3_ENDPOINT_URL` (MLflow's variable) or
    `AWS_ENDPOINT_URL[_S3]`, the region from `AWS_REGION`/`AWS_DEFAULT_REGION`; credentials
    from boto3's usual chain.

    Raises:
        InvalidParameter: an unsupported scheme.
    """
    parts = check_destination(destination)
    if parts.scheme == "s3":
        return S3ArtifactRepository(
            parts.netloc,
            parts.path.strip("/"),
            endpoint_url=_first_env(ENDPOINT_ENV),
            region=_first_env(REGION_ENV),
        )
    if parts.scheme == "file":
        return LocalArtifactRepository(urllib.parse.unquote(parts.path))
    return LocalArtifactRepository(destination)


def check_destination(destination: str) -> urllib.parse.SplitResult:
    """`destination` split into its parts, once it is seen to be one that
    `open_artifact_repository` opens (nothing is opened or created here).

    Raises:
        InvalidParameter: an unsupported scheme.
    """
    parts = urllib.parse.urlsplit(destination)
    # "C:\..." is a Windows path, not a scheme
    if parts.scheme not in ("s3", "file") and len(parts.scheme) > 1:
        raise InvalidParameter(
            f"Unsupported artifact destination {destination!r}: use a local path or s3://"
        )
    if parts.scheme == "s3" and not parts.netloc:
        raise InvalidParameter("An S3 artifact destination needs a bucket name")
    return parts


def _first_env(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None
