"""Big files over HTTP: multipart straight to S3 when the server's store takes it, else one PUT."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from heron import HeronClient
from heron.client.http import HttpArtifacts
from heron.settings import Settings

MIB = 1024 * 1024


def _small_parts(client: HeronClient) -> None:
    """Multipart from 5 MiB on, in S3's smallest parts, so a test file stays small."""
    artifacts = client.backend.artifacts
    assert isinstance(artifacts, HttpArtifacts)
    artifacts.multipart_min_bytes = 5 * MIB
    artifacts.part_bytes = 5 * MIB


def test_a_big_file_goes_up_in_parts_straight_to_s3(
    tmp_path: Path,
    s3_server: Any,
    monkeypatch: pytest.MonkeyPatch,
    serve_settings: Any,
) -> None:
    bucket = s3_server.create_bucket()
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_server.region)
    (tmp_path / "server").mkdir()
    settings = Settings.for_home(tmp_path / "server", artifacts_destination=f"s3://{bucket}/art")
    data = os.urandom(12 * MIB + 3)
    (tmp_path / "big.bin").write_bytes(data)
    with serve_settings(settings) as url, HeronClient(url) as client:
        _small_parts(client)
        run = client.create_run(client.create_experiment("mpu"))
        client.log_artifact(run.info.run_id, tmp_path / "big.bin", "blobs")
        local = client.download_artifacts(run.info.run_id, "blobs/big.bin", tmp_path / "out")

    assert Path(local).read_bytes() == data
    key = f"art/{run.info.experiment_id}/{run.info.run_id}/artifacts/blobs/big.bin"
    head = s3_server.client().head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3")  # S3's ETag of a 3-part upload


def test_a_big_file_falls_back_to_one_put_when_the_store_is_local(
    live_server: str, tmp_path: Path
) -> None:
    data = os.urandom(6 * MIB)
    (tmp_path / "big.bin").write_bytes(data)
    with HeronClient(live_server) as client:
        _small_parts(client)
        run_id = client.create_run(client.create_experiment("local-mpu")).info.run_id
        client.log_artifact(run_id, tmp_path / "big.bin")
        local = client.download_artifacts(run_id, "big.bin", tmp_path / "out")

    assert Path(local).read_bytes() == data
