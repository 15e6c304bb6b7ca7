"""A server with --encryption-key: artifacts through the proxy are ciphertext on disk and
plaintext on the wire; rotation and `heron keys rewrap` while it serves; a revoked key is a
clear error, never the bytes."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

from heron.cli.main import main
from heron.settings import Settings
from heron.store.artifacts.encrypted import MAGIC
from heron.store.crypto.keys import create_key_file

PROXY = "/api/2.0/mlflow-artifacts/artifacts"


def heron(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result


def test_proxy_stores_ciphertext_serves_plaintext_and_fails_closed(
    serve_settings: Any, tmp_path: Path
) -> None:
    key_file = tmp_path / "keys.json"
    first_key = create_key_file(key_file)
    artifacts = tmp_path / "artifacts"
    settings = Settings(
        backend_store_uri=f"sqlite:///{tmp_path}/heron.db",
        artifacts_destination=str(artifacts),
        encryption_key=str(key_file),
    )
    content = os.urandom(3 << 20) + b"patient records"
    with serve_settings(settings) as url, httpx.Client(base_url=url, timeout=30) as http:
        assert http.put(f"{PROXY}/1/r/artifacts/data.bin", content=content).status_code == 200
        stored = (artifacts / "1/r/artifacts/data.bin").read_bytes()
        assert stored.startswith(MAGIC)
        assert b"patient records" not in stored
        answer = http.get(f"{PROXY}/1/r/artifacts/data.bin")
        assert answer.headers["content-length"] == str(len(content))
        assert hashlib.sha256(answer.content).digest() == hashlib.sha256(content).digest()
        listed = http.get(f"{PROXY}", params={"path": "1/r/artifacts"}).json()["files"]
        assert listed == [{"path": "data.bin", "is_dir": False, "file_size": len(content)}]

        heron("keys", "rotate", str(key_file))  # the running server picks it up
        flags = ["--artifacts-destination", str(artifacts), "--encryption-key", str(key_file)]
        rewrapped = heron("keys", "rewrap", *flags)
        assert "Re-wrapped 1 files" in rewrapped.output
        heron("keys", "retire", str(key_file), first_key)
        after = http.get(f"{PROXY}/1/r/artifacts/data.bin")
        assert after.content == content

        primary = json.loads(key_file.read_text())["primary"]
        key_file.write_text(key_file.read_text().replace(primary, "k-revoked"))
        time.sleep(1.1)  # a running server looks at the key file once a second
        refused = http.get(f"{PROXY}/1/r/artifacts/data.bin")
        assert refused.status_code == 503
        assert refused.json()["error_code"] == "TEMPORARILY_UNAVAILABLE"
        assert primary in refused.json()["message"]
        assert b"patient" not in refused.content
