"""S3ArtifactRepository against a real S3 server (SeaweedFS): what only S3 has."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from heron.store.artifacts import S3ArtifactRepository, open_artifact_repository


def test_open_artifact_repository_reads_the_endpoint_from_the_environment(
    s3_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = s3_server.shared_bucket()
    base = f"env-{uuid.uuid4().hex}"
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_server.endpoint_url)
    repo = open_artifact_repository(f"s3://{bucket}/{base}/dir")
    assert isinstance(repo, S3ArtifactRepository)
    assert (repo.bucket, repo.prefix) == (bucket, f"{base}/dir")
    repo.write("x.txt", [b"x"])
    listed = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=base)
    assert [o["Key"] for o in listed["Contents"]] == [f"{base}/dir/x.txt"]


def test_files_land_under_the_prefix_only(s3_server: Any) -> None:
    bucket = s3_server.create_bucket()
    repo = S3ArtifactRepository(bucket, "p", endpoint_url=s3_server.endpoint_url)
    repo.write("a/b.txt", [b"b"])
    other = S3ArtifactRepository(bucket, "q", endpoint_url=s3_server.endpoint_url)
    other.write("c.txt", [b"c"])
    assert [info.path for info in repo.list("")] == ["a"]
    repo.delete("a")
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["q/c.txt"]
