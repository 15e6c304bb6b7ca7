"""The artifact proxy keeps every request inside its root: traversal, symlinks, odd names."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from starlette.applications import Starlette

from heron.app import create_app
from heron.settings import Settings

PROXY = "/api/2.0/mlflow-artifacts/artifacts"

Serve = Callable[[Starlette], contextlib.AbstractContextManager[str]]

ATTACKS = [
    "../escape.txt",
    "1/../../escape.txt",
    "1/r/artifacts/../../../../escape.txt",
    "/etc/passwd",
    "%2Fetc%2Fpasswd",
    "%2e%2e/escape.txt",
    "1/%2e%2e/%2e%2e/escape.txt",
    "%2e%2e%2fescape.txt",
    "%252e%252e%252fescape.txt",
    "..%252fescape.txt",
    "..\\escape.txt",
    "1%5c..%5c..%5cescape.txt",
    "esc%00ape.txt",
    ".../escape.txt",
]


@dataclass
class Proxy:
    host: str
    port: int
    home: Path  # the artifacts root is home/artifacts; siblings must stay untouched

    @property
    def root(self) -> Path:
        return self.home / "artifacts"

    def request(self, method: str, raw_path: str, body: bytes | None = None) -> tuple[int, bytes]:
        """Sends `raw_path` exactly as given (no client-side normalisation or escaping)."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            conn.request(method, raw_path, body=body)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()


@pytest.fixture
def proxy(tmp_path: Path, serve_app: Serve) -> Iterator[Proxy]:
    home = tmp_path / "home"
    (home / "outside").mkdir(parents=True)
    app = create_app(Settings.for_home(home))
    (home / "outside" / "secret.txt").write_text("top secret")
    with serve_app(app) as url:
        parts = urllib.parse.urlsplit(url)
        assert parts.hostname is not None
        assert parts.port is not None
        yield Proxy(parts.hostname, parts.port, home)


def _files_outside(proxy: Proxy) -> list[str]:
    return sorted(
        str(p.relative_to(proxy.home))
        for p in proxy.home.rglob("*")
        if proxy.root not in p.parents and p != proxy.root and not p.name.startswith("heron.db")
    )


@pytest.mark.parametrize("attack", ATTACKS, ids=ATTACKS)
def test_traversal_is_refused_with_400_and_writes_nothing(proxy: Proxy, attack: str) -> None:
    before = _files_outside(proxy)
    for method, body in [("PUT", b"planted"), ("GET", None), ("DELETE", None)]:
        status, answer = proxy.request(method, f"{PROXY}/{attack}", body)
        assert status == 400, (method, answer)
        assert json.loads(answer)["error_code"] == "INVALID_PARAMETER_VALUE"
    status, _ = proxy.request("GET", f"{PROXY}?path={attack}")
    assert status == 400
    assert _files_outside(proxy) == before
    assert (proxy.home / "outside" / "secret.txt").read_text() == "top secret"
    assert not list(proxy.root.rglob("*escape*"))


def test_symlink_inside_the_root_pointing_out_is_refused(proxy: Proxy) -> None:
    proxy.root.mkdir(exist_ok=True)
    os.symlink(proxy.home / "outside", proxy.root / "link")
    os.symlink(proxy.home / "outside" / "secret.txt", proxy.root / "file-link")
    assert proxy.request("GET", f"{PROXY}/link/secret.txt")[0] == 400
    assert proxy.request("GET", f"{PROXY}/file-link")[0] == 400
    assert proxy.request("PUT", f"{PROXY}/link/planted.txt", b"x")[0] == 400
    assert proxy.request("GET", f"{PROXY}?path=link")[0] == 400
    status, answer = proxy.request("GET", f"{PROXY}?path=")
    assert (status, json.loads(answer)) == (200, {})
    assert sorted(p.name for p in (proxy.home / "outside").iterdir()) == ["secret.txt"]


@pytest.mark.parametrize(
    "name", ["100%.txt", "50%off", "%zz.bin", "a%2520b.txt"], ids=["pct", "pct-word", "bad", "2520"]
)
def test_literal_percent_in_a_file_name_round_trips(proxy: Proxy, name: str) -> None:
    # MLflow compat: the client puts file names into the URL without escaping '%'.
    assert proxy.request("PUT", f"{PROXY}/1/r/artifacts/{name}", b"pct")[0] == 200
    stored = urllib.parse.unquote(name)  # what the URL means after one decoding
    assert (proxy.root / "1" / "r" / "artifacts" / stored).read_bytes() == b"pct"
    assert proxy.request("GET", f"{PROXY}/1/r/artifacts/{name}") == (200, b"pct")


def test_directory_of_2500_files_lists_whole_or_in_pages(proxy: Proxy) -> None:
    folder = proxy.root / "1" / "many" / "artifacts"
    folder.mkdir(parents=True)
    names = [f"f{i:05d}.txt" for i in range(2500)]
    for name in names:
        (folder / name).write_bytes(b"x")
    status, answer = proxy.request("GET", f"{PROXY}?path=1/many/artifacts")
    assert status == 200
    assert [f["path"] for f in json.loads(answer)["files"]] == names

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        query = urllib.parse.urlencode({"path": "1/many/artifacts", "page_token": token})
        status, answer = proxy.request("GET", f"{PROXY}?{query}")
        assert status == 200
        page = json.loads(answer)
        pages += 1
        seen.extend(f["path"] for f in page["files"])
        token = page.get("next_page_token", "")
        if not token:
            break
    assert (seen, pages) == (names, 3)
