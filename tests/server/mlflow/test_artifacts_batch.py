"""Heron's batch upload (many small files in one PUT): what arrives is whole and confined, a
broken body keeps nothing of the broken file, and the SDK uses it with any server."""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from heron.app import create_app
from heron.client.http import HttpArtifacts, Transport
from heron.settings import Settings
from heron.store.artifacts import batch

BATCH = "/api/2.0/heron/artifacts/batch"


def body_of(files: list[tuple[str, bytes]]) -> bytes:
    return b"".join(batch.record_header(path, content) + content for path, content in files)


@pytest.fixture
def proxy(tmp_path: Path, serve_app: Any) -> Iterator[tuple[httpx.Client, Path]]:
    home = tmp_path / "home"
    home.mkdir()
    with serve_app(create_app(Settings.for_home(home))) as url, httpx.Client(base_url=url) as http:
        yield http, home / "artifacts"


def test_a_batch_writes_every_file_under_its_directory(proxy: tuple[httpx.Client, Path]) -> None:
    http, root = proxy
    files = [("a.txt", b"alpha"), ("deep/er/b.bin", bytes(range(256)) * 40), ("empty", b"")]
    answer = http.put(f"{BATCH}/1/run/artifacts", content=body_of(files))
    assert (answer.status_code, answer.json()) == (200, {"files": 3})
    for path, content in files:
        assert (root / "1/run/artifacts" / path).read_bytes() == content
    listed = http.get("/api/2.0/mlflow-artifacts/artifacts", params={"path": "1/run/artifacts"})
    assert {f["path"] for f in listed.json()["files"]} == {"a.txt", "deep", "empty"}


def test_a_corrupted_file_is_refused_and_the_files_before_it_are_kept(
    proxy: tuple[httpx.Client, Path],
) -> None:
    http, root = proxy
    good = batch.record_header("good.txt", b"fine") + b"fine"
    bad = batch.record_header("bad.txt", b"original") + b"tampered"
    after = batch.record_header("after.txt", b"never") + b"never"
    answer = http.put(f"{BATCH}/x", content=good + bad + after)
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "digest" in answer.json()["message"]
    assert (root / "x/good.txt").read_bytes() == b"fine"
    assert sorted(p.name for p in (root / "x").iterdir()) == ["good.txt"]


@pytest.mark.parametrize("cut", [1, 5, 30, -3], ids=["in-length", "in-name", "in-head", "in-data"])
def test_a_body_cut_short_is_refused_and_leaves_no_partial_file(
    proxy: tuple[httpx.Client, Path], cut: int
) -> None:
    http, root = proxy
    body = body_of([("whole.txt", b"first"), ("cut.txt", b"0123456789")])
    first = len(batch.record_header("whole.txt", b"first")) + 5
    end = first + cut if cut > 0 else len(body) + cut
    answer = http.put(f"{BATCH}/y", content=body[:end])
    assert answer.status_code == 400
    assert "cut short" in answer.json()["message"]
    assert sorted(p.name for p in (root / "y").iterdir()) == ["whole.txt"]


@pytest.mark.parametrize(
    "path", ["../escape.txt", "/etc/passwd", "a/../../escape.txt", "a\\..\\x", "nul\x00.txt"]
)
def test_a_path_leading_out_of_the_directory_is_refused(
    proxy: tuple[httpx.Client, Path], path: str
) -> None:
    http, root = proxy
    answer = http.put(f"{BATCH}/1/r", content=body_of([(path, b"planted")]))
    assert answer.status_code == 400
    assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
    planted = [p for p in root.parent.rglob("*") if p.is_file() and p.read_bytes() == b"planted"]
    assert planted == []


def test_an_over_long_or_undecodable_name_is_refused(proxy: tuple[httpx.Client, Path]) -> None:
    http, _ = proxy
    long_name = (batch.MAX_PATH_BYTES + 1).to_bytes(2, "big") + b"x" * (batch.MAX_PATH_BYTES + 1)
    assert http.put(f"{BATCH}/z", content=long_name).status_code == 400
    latin = b"\xe9t\xe9"
    header = len(latin).to_bytes(2, "big") + latin + bytes(8) + hashlib.sha256(b"").digest()
    answer = http.put(f"{BATCH}/z", content=header)
    assert answer.status_code == 400
    assert "UTF-8" in answer.json()["message"]


def test_without_artifact_serving_the_batch_route_answers_503(
    tmp_path: Path, serve_app: Any
) -> None:
    (tmp_path / "home").mkdir()
    settings = Settings.for_home(tmp_path / "home", serve_artifacts=False)
    with serve_app(create_app(settings)) as url:
        answer = httpx.put(f"{url}{BATCH}/1", content=body_of([("a", b"a")]))
    assert answer.status_code == 503


def test_the_sdk_sends_small_files_in_batches_and_big_ones_alone(
    proxy: tuple[httpx.Client, Path], tmp_path: Path
) -> None:
    http, root = proxy
    local = tmp_path / "local"
    files: list[tuple[Path, str]] = []
    for i in range(300):
        path = local / f"d{i % 7}" / f"f{i}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(f"file {i}\n".encode() * (i + 1))
        files.append((path, f"out/d{i % 7}/f{i}.txt"))
    big = local / "big.bin"
    big.write_bytes(bytes(range(256)) * (batch.FILE_BYTES // 256 + 1))
    files.append((big, "out/big.bin"))
    transport = Transport(str(http.base_url))
    try:
        HttpArtifacts(transport).put_many("mlflow-artifacts:/7/r/artifacts", files)
    finally:
        transport.close()
    for local_path, path in files:
        assert (root / "7/r/artifacts" / path).read_bytes() == local_path.read_bytes()


class _PlainProxy(http.server.BaseHTTPRequestHandler):
    """A server with MLflow's one-PUT-a-file proxy and no batch upload."""

    stored: dict[str, bytes]

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        path = urllib.parse.unquote(self.path)
        prefix = "/api/2.0/mlflow-artifacts/artifacts/"
        if not path.startswith(prefix):
            self.send_response(404)
            self.end_headers()
            return
        self.stored[path[len(prefix) :]] = body
        answer = json.dumps({}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def plain_proxy() -> Iterator[tuple[str, dict[str, bytes]]]:
    stored: dict[str, bytes] = {}
    handler = type("Handler", (_PlainProxy,), {"stored": stored})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", stored
    finally:
        server.shutdown()
        server.server_close()


def test_a_server_without_batches_gets_one_put_a_file(tmp_path: Path) -> None:
    files = []
    for i in range(40):
        path = tmp_path / f"f{i}.txt"
        path.write_bytes(f"content {i}".encode())
        files.append((path, f"dir/f{i}.txt"))
    with plain_proxy() as (url, stored):
        transport = Transport(url)
        try:
            HttpArtifacts(transport).put_many("mlflow-artifacts:/3/r/artifacts", files)
        finally:
            transport.close()
    assert stored == {f"3/r/artifacts/dir/f{i}.txt": f"content {i}".encode() for i in range(40)}
