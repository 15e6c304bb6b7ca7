"""Big files over HTTP: multipart straight to S3 when the server's store takes it, else one PUT."""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from heron import HeronClient
from heron.client.http import HttpArtifacts, multipart
from heron.errors import TemporarilyUnavailable
from heron.settings import Settings
from heron.store.artifacts import open_artifact_repository

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


def _md5(data: bytes) -> Any:
    return hashlib.md5(data, usedforsecurity=False)


def test_the_storage_refuses_a_part_whose_content_md5_differs(
    s3_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3_server.endpoint_url)
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_server.region)
    repository = open_artifact_repository(f"s3://{s3_server.shared_bucket()}/md5-{os.getpid()}")
    upload = repository.create_multipart_upload("big.bin", 1)
    url = upload.credentials[0].url
    wrong = base64.b64encode(_md5(b"other bytes").digest()).decode()
    assert httpx.put(url, content=b"the part", headers={"Content-MD5": wrong}).status_code == 400
    right = base64.b64encode(_md5(b"the part").digest()).decode()
    answer = httpx.put(url, content=b"the part", headers={"Content-MD5": right})
    assert answer.status_code == 200
    assert answer.headers["ETag"].strip('"') == _md5(b"the part").hexdigest()
    repository.abort_multipart_upload("big.bin", upload.upload_id)


class _Storage(http.server.BaseHTTPRequestHandler):
    """Takes parts and answers with an ETag that is not their MD5 (a store that changed them)."""

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("ETag", f'"{_md5(b"something else").hexdigest()}"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_part_whose_etag_is_not_its_md5_fails_the_upload(tmp_path: Path) -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Storage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (tmp_path / "part").write_bytes(b"x" * 100)
    url = f"http://127.0.0.1:{server.server_address[1]}/bucket/key?partNumber=1"
    try:
        with (
            open(tmp_path / "part", "rb") as file,
            httpx.Client() as storage,
            pytest.raises(TemporarilyUnavailable, match="arrived changed"),
        ):
            multipart.send_parts(storage, [{"part_number": 1, "url": url}], file.fileno(), 100, 100)
    finally:
        server.shutdown()
        server.server_close()
