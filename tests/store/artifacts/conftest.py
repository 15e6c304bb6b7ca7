"""Artifact repository fixtures: one on local disk, one on the test S3 server."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from heron.store.artifacts import LocalArtifactRepository, S3ArtifactRepository


@pytest.fixture(params=["local", "s3"])
def repository(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A fresh, empty repository: a local directory, then an S3 bucket prefix."""
    if request.param == "local":
        return LocalArtifactRepository(tmp_path / "root")
    s3 = request.getfixturevalue("s3_server")
    return S3ArtifactRepository(s3.create_bucket(), "some/prefix", endpoint_url=s3.endpoint_url)
