"""The artifact proxy over real HTTP, on local disk and on S3: round trips and streaming."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from heron.app import create_app
from heron.settings import Settings
from heron.store.artifacts.local import TEMP_PREFIX

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
API = "/api/2.0/mlflow"

Serve = Callable[[Starlette], contextlib.AbstractContextManager[str]]


@dataclass
class ArtifactServer:
    http: httpx.Client
    destination: str


@pytest.fixture(scope="module", params=["local", "s3"])
def artifact_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, serve_app: Serve
) -> Iterator[ArtifactServer]:
    """A server whose artifacts go to a local directory, then to an S3 bucket."""
    home = tmp_path_factory.mktemp("artifact-server")
    if request.param == "local":
        destination = str(home / "artifacts")
    else:
        s3 = request.getfixturevalue("s3_server")
        destination = f"s3://{s3.shared_bucket()}/server-{uuid.uuid4().hex}"
        os.environ["MLFLOW_S3_ENDPOINT_URL"] = s3.endpoint_url
    try:
        app = create_app(Settings.for_home(home, artifacts_destination=destination))
    finally:
        os.environ.pop("MLFLOW_S3_ENDPOINT_URL", None)
    with serve_app(app) as url, httpx.Client(base_url=url, timeout=60) as client:
        yield ArtifactServer(client, destination)


@pytest.fixture
def base() -> str:
    """A fresh directory in the proxied store, shaped like a run's."""
    return f"1/{uuid.uuid4().hex}/artifacts"


def _put(http: httpx.Client, path: str, content: Any) -> None:
    resp = http.put(f"{PROXY}/{path}", content=content)
    assert resp.status_code == 200, resp.text
    assert resp.json() == {}


def _wait_until(condition: Callable[[], bool], timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _listing(http: httpx.Client, path: str) -> list[tuple[str, bool, int | None]]:
    resp = http.get(PROXY, params={"path": path})
    assert resp.status_code == 200, resp.text
    files = resp.json().get("files", [])
    return [(f["path"], f["is_dir"], f.get("file_size")) for f in files]


def test_upload_list_download_delete_round_trip(artifact_server: ArtifactServer, base: str) -> None:
    http = artifact_server.http
    _put(http, f"{base}/hello.txt", b"hello proxy\n")
    _put(http, f"{base}/reports/2024/report.csv", b"a,b\n1,2\n")
    _put(http, f"{base}/reports/top.json", b"{}")
    assert _listing(http, base) == [("hello.txt", False, 12), ("reports", True, None)]
    assert _listing(http, f"{base}/reports") == [("2024", True, None), ("top.json", False, 2)]
    assert _listing(http, f"{base}/reports/2024") == [("report.csv", False, 8)]

    resp = http.get(f"{PROXY}/{base}/reports/2024/report.csv")
    assert resp.status_code == 200
    assert resp.content == b"a,b\n1,2\n"
    assert resp.headers["content-type"].startswith("text/csv")
    assert resp.headers["content-disposition"] == 'attachment; filename="report.csv"'
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["content-length"] == "8"

    _put(http, f"{base}/empty.txt", b"")
    resp = http.get(f"{PROXY}/{base}/empty.txt")
    assert (resp.status_code, resp.content, resp.headers["content-length"]) == (200, b"", "0")

    assert http.delete(f"{PROXY}/{base}/reports").status_code == 200
    assert http.delete(f"{PROXY}/{base}/hello.txt").json() == {}
    assert http.get(f"{PROXY}/{base}/hello.txt").status_code == 404
    assert http.get(f"{PROXY}/{base}/reports/2024/report.csv").status_code == 404


def test_twenty_megabytes_stream_up_and_down_intact(
    artifact_server: ArtifactServer, base: str
) -> None:
    block = os.urandom(1 << 20)
    expected = hashlib.sha256(block * 20).hexdigest()

    def body() -> Iterator[bytes]:
        for _ in range(20):
            yield block

    _put(artifact_server.http, f"{base}/big.bin", body())
    digest = hashlib.sha256()
    with artifact_server.http.stream("GET", f"{PROXY}/{base}/big.bin") as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"] == "application/octet-stream"
        # The size up front, so a client can show progress and check what it got.
        assert resp.headers["content-length"] == str(20 << 20)
        assert "transfer-encoding" not in resp.headers
        for chunk in resp.iter_bytes():
            digest.update(chunk)
    assert digest.hexdigest() == expected
    assert _listing(artifact_server.http, base) == [("big.bin", False, 20 << 20)]


def test_an_upload_whose_client_goes_away_leaves_nothing(
    artifact_server: ArtifactServer, base: str
) -> None:
    url = httpx.URL(str(artifact_server.http.base_url))
    head = (
        f"PUT {PROXY}/{base}/gone.bin HTTP/1.1\r\nHost: {url.host}\r\n"
        f"Content-Length: {8 << 20}\r\n\r\n"
    )
    local = None
    if not artifact_server.destination.startswith("s3://"):
        local = Path(artifact_server.destination, base)
    with socket.create_connection((url.host, url.port)) as sock:
        sock.sendall(head.encode() + os.urandom(3 << 20))  # 3 of the 8 MiB announced
        # On local disk, wait until the server is writing the upload's temporary file.
        _wait_until(lambda: local is None or any(local.glob(f"{TEMP_PREFIX}*")))
    if local is not None:
        # The server notices the disconnect and removes the temporary file.
        _wait_until(lambda: not any(local.iterdir()))
    assert _listing(artifact_server.http, base) == []

    _put(artifact_server.http, f"{base}/gone.bin", b"whole")  # the path is free again
    assert artifact_server.http.get(f"{PROXY}/{base}/gone.bin").content == b"whole"


def test_an_upload_with_the_announced_digest_is_kept(
    artifact_server: ArtifactServer, base: str
) -> None:
    body = os.urandom(300_000)
    sha256 = base64.b64encode(hashlib.sha256(body).digest()).decode()
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()  # noqa: S324 - S3's header
    headers = {"Content-Digest": f"sha-256=:{sha256}:", "Content-MD5": md5}

    resp = artifact_server.http.put(f"{PROXY}/{base}/ok.bin", content=body, headers=headers)

    assert resp.status_code == 200, resp.text
    assert artifact_server.http.get(f"{PROXY}/{base}/ok.bin").content == body


@pytest.mark.parametrize(
    "header",
    [
        {"Content-Digest": "sha-256=:" + base64.b64encode(b"\0" * 32).decode() + ":"},
        {"Content-MD5": base64.b64encode(b"\0" * 16).decode()},
    ],
)
def test_a_corrupted_upload_is_refused_and_leaves_nothing(
    artifact_server: ArtifactServer, base: str, header: dict[str, str]
) -> None:
    def body() -> Iterator[bytes]:
        for _ in range(3):
            yield os.urandom(1 << 20)

    resp = artifact_server.http.put(f"{PROXY}/{base}/bad.bin", content=body(), headers=header)

    assert resp.status_code == 400
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "corrupted on the way" in resp.json()["message"]
    assert artifact_server.http.get(f"{PROXY}/{base}/bad.bin").status_code == 404
    assert _listing(artifact_server.http, base) == []


def test_an_unreadable_digest_header_is_400(artifact_server: ArtifactServer, base: str) -> None:
    resp = artifact_server.http.put(
        f"{PROXY}/{base}/x.bin", content=b"x", headers={"Content-Digest": "sha-256=nope"}
    )

    assert resp.status_code == 400
    assert "Cannot read Content-Digest" in resp.json()["message"]


def test_empty_file_round_trips(artifact_server: ArtifactServer, base: str) -> None:
    _put(artifact_server.http, f"{base}/empty.txt", b"")
    resp = artifact_server.http.get(f"{PROXY}/{base}/empty.txt")
    assert (resp.status_code, resp.content) == (200, b"")


def test_missing_file_is_404_json(artifact_server: ArtifactServer, base: str) -> None:
    resp = artifact_server.http.get(f"{PROXY}/{base}/nope.txt")
    assert resp.status_code == 404
    assert resp.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_downloading_a_directory_is_400(artifact_server: ArtifactServer, base: str) -> None:
    _put(artifact_server.http, f"{base}/dir/file.txt", b"x")
    resp = artifact_server.http.get(f"{PROXY}/{base}/dir")
    assert resp.status_code == 400
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"


def test_listing_an_absent_directory_is_empty(artifact_server: ArtifactServer, base: str) -> None:
    resp = artifact_server.http.get(PROXY, params={"path": f"{base}/none"})
    assert (resp.status_code, resp.json()) == (200, {})


def test_unicode_file_name_round_trips(artifact_server: ArtifactServer, base: str) -> None:
    _put(artifact_server.http, f"{base}/résumé ✓.txt", "ü".encode())
    resp = artifact_server.http.get(f"{PROXY}/{base}/résumé ✓.txt")
    assert resp.content == "ü".encode()
    assert resp.headers["content-disposition"].startswith("attachment; filename*=utf-8''")
    assert _listing(artifact_server.http, base) == [("résumé ✓.txt", False, 2)]


def test_run_artifact_list_is_relative_to_the_run_root(artifact_server: ArtifactServer) -> None:
    http = artifact_server.http
    exp = http.post(f"{API}/experiments/create", json={"name": f"e-{uuid.uuid4()}"}).json()
    run = http.post(f"{API}/runs/create", json={"experiment_id": exp["experiment_id"]}).json()
    info = run["run"]["info"]
    root_uri = info["artifact_uri"]
    assert root_uri.startswith("mlflow-artifacts:/")
    prefix = root_uri.removeprefix("mlflow-artifacts:/").strip("/")
    _put(http, f"{prefix}/model/MLmodel", b"flavors: {}\n")
    _put(http, f"{prefix}/notes.txt", b"n")

    resp = http.get(f"{API}/artifacts/list", params={"run_id": info["run_id"]})
    assert resp.status_code == 200, resp.text
    assert resp.json() == {
        "root_uri": root_uri,
        "files": [
            {"path": "model", "is_dir": True},
            {"path": "notes.txt", "is_dir": False, "file_size": 1},
        ],
    }
    resp = http.get(f"{API}/artifacts/list", params={"run_uuid": info["run_id"], "path": "model"})
    assert resp.json()["files"] == [{"path": "model/MLmodel", "is_dir": False, "file_size": 12}]
    bad = http.get(f"{API}/artifacts/list", params={"run_id": info["run_id"], "path": "../x"})
    assert bad.status_code == 400
    empty = http.get(f"{API}/artifacts/list", params={"run_id": info["run_id"], "path": "no"})
    assert empty.json() == {"root_uri": root_uri}


def test_run_artifact_list_of_missing_run_is_404(artifact_server: ArtifactServer) -> None:
    resp = artifact_server.http.get(f"{API}/artifacts/list", params={"run_id": "f" * 32})
    assert resp.status_code == 404
    assert resp.json()["error_code"] == "RESOURCE_DOES_NOT_EXIST"


def test_no_serve_artifacts_answers_503(tmp_path: Path, serve_app: Serve) -> None:
    app = create_app(Settings.for_home(tmp_path, serve_artifacts=False))
    with serve_app(app) as url, httpx.Client(base_url=url) as http:
        assert http.get(f"{PROXY}/1/x/artifacts/a.txt").status_code == 503
        assert http.put(f"{PROXY}/1/x/artifacts/a.txt", content=b"x").status_code == 503
        assert http.get(PROXY, params={"path": "1"}).status_code == 503
        assert http.delete(f"{PROXY}/1/x/artifacts/a.txt").status_code == 503
    assert not (tmp_path / "artifacts").exists()


def test_multipart_upload_goes_straight_to_s3_or_is_refused_on_local_disk(
    artifact_server: ArtifactServer, base: str
) -> None:
    http = artifact_server.http
    on_s3 = artifact_server.destination.startswith("s3://")
    info = http.get("/api/3.0/mlflow/server-info").json()
    assert info["multipart_uploads_enabled"] is on_s3
    mpu = "/api/2.0/mlflow-artifacts/mpu"
    resp = http.post(
        f"{mpu}/create/{base}/big.bin", json={"path": "/local/big.bin", "num_parts": 2}
    )
    if not on_s3:
        # MLflow compat: this message makes the client fall back to a plain PUT.
        assert resp.status_code == 501
        assert resp.json()["message"].startswith("Multipart upload is not supported")
        return
    assert resp.status_code == 200, resp.text
    created = resp.json()
    assert [c["part_number"] for c in created["credentials"]] == [1, 2]
    first, second = os.urandom(5 << 20), os.urandom(1000)
    parts = []
    for credential, data in zip(created["credentials"], [first, second], strict=True):
        put = httpx.put(credential["url"], content=data, headers=credential["headers"])
        assert put.status_code == 200, put.text
        parts.append({"part_number": credential["part_number"], "etag": put.headers["ETag"]})
    done = http.post(
        f"{mpu}/complete/{base}/big.bin",
        json={"path": "/local/big.bin", "upload_id": created["upload_id"], "parts": parts},
    )
    assert (done.status_code, done.json()) == (200, {})
    assert http.get(f"{PROXY}/{base}/big.bin").content == first + second

    aborted = http.post(f"{mpu}/create/{base}/gone.bin", json={"num_parts": 1}).json()
    resp = http.post(f"{mpu}/abort/{base}/gone.bin", json={"upload_id": aborted["upload_id"]})
    assert resp.status_code == 200
    assert _listing(http, base) == [("big.bin", False, (5 << 20) + 1000)]


def test_multipart_paths_are_confined(artifact_server: ArtifactServer) -> None:
    resp = artifact_server.http.post(
        "/api/2.0/mlflow-artifacts/mpu/create/%2e%2e/x.bin", json={"num_parts": 1}
    )
    assert resp.status_code == 400


def test_run_artifact_list_reads_a_local_root_without_the_proxy(
    tmp_path: Path, serve_app: Serve
) -> None:
    root = tmp_path / "store"
    settings = Settings.for_home(tmp_path, serve_artifacts=False, default_artifact_root=str(root))
    with serve_app(create_app(settings)) as url, httpx.Client(base_url=url) as http:
        exp = http.post(f"{API}/experiments/create", json={"name": "no-proxy"}).json()
        run = http.post(f"{API}/runs/create", json={"experiment_id": exp["experiment_id"]})
        info = run.json()["run"]["info"]
        run_dir = Path(info["artifact_uri"])
        assert root in run_dir.parents
        (run_dir / "sub").mkdir(parents=True)
        (run_dir / "sub" / "f.txt").write_text("abc")
        resp = http.get(f"{API}/artifacts/list", params={"run_id": info["run_id"], "path": "sub"})
    assert resp.json() == {
        "root_uri": info["artifact_uri"],
        "files": [{"path": "sub/f.txt", "is_dir": False, "file_size": 3}],
    }
