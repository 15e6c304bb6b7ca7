"""Artifact repository fixtures: one on local disk, one on the test S3 server."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from heron.store.artifacts import LocalArtifactRepository, S3ArtifactRepository


@pytest.fixture(params=["local", "s3"])
def repository(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A fresh, empty repository: a local directory, then a fresh prefix in an S3 bucket."""
    if request.param == "local":
        return LocalArtifactRepository(tmp_path / "root")
    s3 = request.getfixturevalue("s3_server")
    prefix = f"tests/{uuid.uuid4().hex}"
    return S3ArtifactRepository(s3.shared_bucket(), prefix, endpoint_url=s3.endpoint_url)
