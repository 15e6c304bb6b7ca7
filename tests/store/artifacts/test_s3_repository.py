"""S3ArtifactRepository against a real S3 server (SeaweedFS): what only S3 has."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from heron.errors import InvalidParameter, NotFound
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


@pytest.mark.parametrize(
    ("path", "upload_id", "error"),
    [
        ("f.bin", "no-such-upload", NotFound),
        ("f.bin", "/abs", (InvalidParameter, NotFound)),  # S3 servers differ: a 4xx either way
        ("", "no-such-upload", InvalidParameter),
    ],
    ids=["unknown-id", "slash-id", "no-file-name"],
)
def test_a_multipart_upload_the_client_got_wrong_is_its_error(
    s3_server: Any, path: str, upload_id: str, error: Any
) -> None:
    """Completing or aborting an upload S3 does not know was a 500 (found by fuzzing)."""
    repo = S3ArtifactRepository(
        s3_server.shared_bucket(), uuid.uuid4().hex, endpoint_url=s3_server.endpoint_url
    )
    with pytest.raises(error):
        repo.abort_multipart_upload(path, upload_id)
    with pytest.raises(error):
        repo.complete_multipart_upload(path, upload_id, [(1, '"etag"')])
    started = repo.create_multipart_upload("g.bin", 1)
    # a part it never got (InvalidPart on AWS; SeaweedFS says NoSuchUpload)
    with pytest.raises((InvalidParameter, NotFound)):
        repo.complete_multipart_upload("g.bin", started.upload_id, [(1, '"nope"')])
    repo.abort_multipart_upload("g.bin", started.upload_id)
