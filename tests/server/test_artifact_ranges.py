"""HTTP Range requests on the routes that serve artifact bytes: the artifact proxy, a run's
file (/get-artifact) and the UI's raw file, on local disk and S3, plain and encrypted."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from heron.settings import Settings
from heron.store.artifacts.encrypted import SEGMENT
from heron.store.crypto.keys import create_key_file

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
CONTENT = os.urandom(2 * SEGMENT + 1234)
SIZE = len(CONTENT)


@pytest.fixture(params=["local", "s3", "local-encrypted", "s3-encrypted"])
def server(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    serve_settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> Any:
    """A server whose artifact destination is a folder or a bucket, with or without a key."""
    destination = str(tmp_path / "artifacts")
    if request.param.startswith("s3"):
        s3 = request.getfixturevalue("s3_server")
        monkeypatch.setenv("MLFLOW_S3_ENDPOINT_URL", s3.endpoint_url)
        monkeypatch.setenv("AWS_DEFAULT_REGION", s3.region)
        destination = f"s3://{s3.create_bucket()}/artifacts"
    key = None
    if request.param.endswith("encrypted"):
        create_key_file(tmp_path / "keys.json")
        key = str(tmp_path / "keys.json")
    settings = Settings(
        backend_store_uri=f"sqlite:///{tmp_path}/heron.db",
        artifacts_destination=destination,
        encryption_key=key,
    )
    with serve_settings(settings) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def _get(http: httpx.Client, path: str, range_header: str) -> httpx.Response:
    return http.get(path, headers={"Range": range_header})


def test_the_proxy_answers_ranges_with_206(server: httpx.Client) -> None:
    assert server.put(f"{PROXY}/1/r/artifacts/data.bin", content=CONTENT).status_code == 200
    url = f"{PROXY}/1/r/artifacts/data.bin"
    whole = server.get(url)
    assert whole.status_code == 200
    assert whole.headers["accept-ranges"] == "bytes"
    assert whole.content == CONTENT
    cases = {
        "bytes=0-99": (0, 99),
        f"bytes={SEGMENT - 10}-{SEGMENT + 10}": (SEGMENT - 10, SEGMENT + 10),
        f"bytes={SIZE - 5}-": (SIZE - 5, SIZE - 1),
        "bytes=-1000": (SIZE - 1000, SIZE - 1),
        f"bytes=100-{SIZE + 50}": (100, SIZE - 1),
    }
    for header, (first, last) in cases.items():
        answer = _get(server, url, header)
        assert answer.status_code == 206, header
        assert answer.headers["content-range"] == f"bytes {first}-{last}/{SIZE}", header
        assert answer.headers["content-length"] == str(last - first + 1), header
        assert answer.content == CONTENT[first : last + 1], header


def test_a_range_outside_the_file_is_416_with_its_size(server: httpx.Client) -> None:
    url = f"{PROXY}/1/r/artifacts/small.txt"
    assert server.put(url, content=b"0123456789").status_code == 200
    for header in ["bytes=10-", "bytes=99-200", "bytes=-0"]:
        answer = _get(server, url, header)
        assert answer.status_code == 416, header
        assert answer.headers["content-range"] == "bytes */10"
        assert answer.json()["error_code"] == "REQUESTED_RANGE_NOT_SATISFIABLE"
        assert "10 bytes" in answer.json()["message"]


def test_ranges_that_are_ignored_send_the_whole_file(server: httpx.Client) -> None:
    url = f"{PROXY}/1/r/artifacts/small.txt"
    assert server.put(url, content=b"0123456789").status_code == 200
    for header in ["bytes=0-1,4-5", "bytes=5-2", "lines=1-2"]:
        answer = _get(server, url, header)
        assert (answer.status_code, answer.content) == (200, b"0123456789"), header


def test_a_runs_file_and_the_ui_serve_ranges(server: httpx.Client) -> None:
    experiment = server.post("/api/2.0/mlflow/experiments/create", json={"name": "ranges"}).json()[
        "experiment_id"
    ]
    run = server.post("/api/2.0/mlflow/runs/create", json={"experiment_id": experiment}).json()
    run_id = run["run"]["info"]["run_id"]
    root = run["run"]["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    assert server.put(f"{PROXY}/{root}/clip.bin", content=CONTENT).status_code == 200

    for path, params in [
        ("/get-artifact", {"run_id": run_id, "path": "clip.bin"}),
        (f"/ui/runs/{run_id}/artifact", {"path": "clip.bin"}),
    ]:
        answer = server.get(path, params=params, headers={"Range": f"bytes={SEGMENT}-"})
        assert answer.status_code == 206, path
        assert answer.headers["content-range"] == f"bytes {SEGMENT}-{SIZE - 1}/{SIZE}"
        assert answer.content == CONTENT[SEGMENT:], path
        refused = server.get(path, params=params, headers={"Range": f"bytes={SIZE}-"})
        assert refused.status_code == 416, path
        assert refused.headers["content-range"] == f"bytes */{SIZE}", path
