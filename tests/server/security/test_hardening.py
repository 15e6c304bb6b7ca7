"""Each hardening item sends its bad request to a real server (with or without --auth)."""

from __future__ import annotations

import socket
import subprocess
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import ServerProcess


@pytest.fixture
def server(tmp_path: Path, serve_settings: Any) -> Iterator[str]:
    from heron.settings import Settings

    settings = Settings.for_home(tmp_path, cors_allowed_origins=("https://app.example.com",))
    with serve_settings(settings) as url:
        yield url


def _raw(url: str, request: bytes) -> bytes:
    port = urllib.parse.urlsplit(url).port
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(request)
        return sock.recv(65536)


def test_a_host_not_allowed_is_403(server: str) -> None:
    request = (b"GET /api/2.0/mlflow/experiments/search HTTP/1.1\r\n"
               b"Host: rebound.attacker.example\r\nConnection: close\r\n\r\n")  # fmt: skip
    answer = _raw(server, request)
    assert answer.startswith(b"HTTP/1.1 403")
    assert b"is not one this server answers to" in answer
    with httpx.Client(base_url=server) as client:
        assert client.get("/api/2.0/mlflow/experiments/search").status_code == 200
        other = client.get("/health", headers={"Host": "localhost:1234"})
        assert other.status_code == 200


def test_configured_hosts_replace_the_default(tmp_path: Path, serve_settings: Any) -> None:
    from heron.settings import Settings

    settings = Settings.for_home(tmp_path, allowed_hosts=("heron.corp.example", "*.heron.test"))
    with serve_settings(settings) as url, httpx.Client(base_url=url) as client:
        assert client.get("/health").status_code == 403  # 127.0.0.1 is not on the list
        assert client.get("/health", headers={"Host": "heron.corp.example"}).status_code == 200
        assert client.get("/health", headers={"Host": "eu.heron.test:5000"}).status_code == 200


def test_cors_answers_allowed_origins_only(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        preflight = {"Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"}
        ok = client.options("/api/2.0/mlflow/experiments/create", headers=preflight)
        assert ok.status_code == 204
        assert ok.headers["access-control-allow-origin"] == "https://app.example.com"
        evil = {**preflight, "Origin": "https://evil.example"}
        assert client.options("/api/2.0/mlflow/experiments/create", headers=evil).status_code == 403
        forged = client.post(
            "/api/2.0/mlflow/experiments/create", json={"name": "forged"},
            headers={"Origin": "https://evil.example"},
        )  # fmt: skip
        assert forged.status_code == 403
        read = client.get(
            "/api/2.0/mlflow/experiments/search", headers={"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in read.headers


def test_every_response_carries_security_headers(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        for resp in (
            client.get("/api/2.0/mlflow/experiments/search"),
            client.get("/api/2.0/mlflow/experiments/get", params={"experiment_id": "999"}),
            client.get("/no/such/route"),
            client.get("/"),
        ):
            assert resp.headers["x-content-type-options"] == "nosniff"
            assert "frame-ancestors 'none'" in resp.headers["content-security-policy"]
        assert "script-src 'self'" in client.get("/").headers["content-security-policy"]


def test_a_50_mb_json_body_is_refused_before_it_is_read(server: str) -> None:
    head = (b"POST /api/2.0/mlflow/runs/log-batch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n")  # fmt: skip
    answer = _raw(server, head + b'{"run_id": "' + b"x" * 1000)  # 1 KB of the 50 MB announced
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"larger than the server's limit" in answer


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/2.0/mlflow/experiments/create", {"name": "ok\r\nforged: log line"}),
        ("/api/2.0/mlflow/experiments/create", {"name": "\x1b[2Jcleared"}),
        ("/api/2.0/mlflow/experiments/create", {"name": "a%2Fb"}),
        ("/api/2.0/mlflow/runs/create", {"experiment_id": "0", "run_name": "r\x1b[31m"}),
        ("/api/2.0/mlflow/registered-models/create", {"name": "m\nx"}),
        ("/api/2.0/mlflow/registered-models/create", {"name": "a%2fb"}),
        ("/api/2.0/mlflow/experiments/set-experiment-tag",
         {"experiment_id": "0", "key": "k\r\n", "value": "v"}),
        ("/api/2.0/mlflow/experiments/create",
         {"name": "far", "artifact_location": "mlflow-artifacts://evil.example:5000/x"}),
        ("/api/2.0/mlflow/experiments/create", {"name": "drive", "artifact_location": "C:/data"}),
        ("/api/2.0/mlflow/experiments/create",
         {"name": "unc", "artifact_location": "file://fileserver/share"}),
    ],
    ids=[
        "experiment-crlf", "experiment-esc", "experiment-%2F", "run-esc", "model-lf",
        "model-%2f", "tag-key-crlf", "location-other-host", "location-windows-drive",
        "location-file-host",
    ],
)  # fmt: skip
def test_bad_names_and_locations_are_invalid_parameters(
    server: str, path: str, body: dict[str, str]
) -> None:
    with httpx.Client(base_url=server) as client:
        resp = client.post(path, json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"


@pytest.mark.parametrize(
    "source",
    ["mlflow-artifacts://evil.example:8080/models/x", "C:/models/x", "file://host/models/x"],
    ids=["other-host", "windows-drive", "file-host"],
)
def test_a_model_source_naming_another_host_is_refused(server: str, source: str) -> None:
    with httpx.Client(base_url=server) as client:
        client.post("/api/2.0/mlflow/registered-models/create", json={"name": "m"})
        resp = client.post(
            "/api/2.0/mlflow/model-versions/create", json={"name": "m", "source": source}
        )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error_code"] == "INVALID_PARAMETER_VALUE"


class TlsServer(ServerProcess):
    cert: Path = Path()
    key: Path = Path()

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [*super().command(), "--ssl-keyfile", str(self.key), "--ssl-certfile",
                str(self.cert), "--auth"]  # fmt: skip


def test_tls_and_an_access_log_without_secrets(tmp_path: Path, monkeypatch: Any) -> None:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    monkeypatch.setenv("HERON_ADMIN_USERNAME", "root")
    monkeypatch.setenv("HERON_ADMIN_PASSWORD", "very-secret-password")
    data = tmp_path / "server"
    data.mkdir()
    server = TlsServer(data_dir=data)
    server.cert, server.key = cert, key
    import ssl

    context = ssl.create_default_context(cafile=str(cert))
    monkeypatch.setattr("tests.conftest.urllib.request.urlopen",
                        _opener(context))  # the health probe speaks HTTPS here  # fmt: skip
    try:
        server.start()
        with httpx.Client(base_url=server.url, verify=context,
                          auth=("root", "very-secret-password")) as client:  # fmt: skip
            assert (
                client.get(
                    "/api/2.0/mlflow/experiments/search", params={"page_token": ""}
                ).status_code
                == 200
            )
            made = client.post("/api/2.0/heron/tokens/create", json={"name": "t"}).json()["token"]
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert "https://127.0.0.1" in log
    assert "root GET /api/2.0/mlflow/experiments/search 200" in log
    assert "very-secret-password" not in log
    assert made not in log


def _opener(context: Any) -> Any:
    import urllib.request

    original = urllib.request.urlopen

    def urlopen(url: str, timeout: float = 2) -> Any:
        return original(url.replace("http://", "https://"), timeout=timeout, context=context)

    return urlopen
