"""Streaming end to end: a 2 GB artifact through `heron server` keeps its memory bounded."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

PROXY = "/api/2.0/mlflow-artifacts/artifacts"
SIZE_MB = 2048
MAX_GROWTH_MB = 200  # buffers and the threadpool, never the file


def _peak_rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM in /proc/<pid>/status")


@pytest.mark.slow
def test_two_gigabytes_up_and_down_hold_server_memory_bounded(server_process: Any) -> None:
    pid = server_process.proc.pid
    before = _peak_rss_mb(pid)
    block = os.urandom(1 << 20)
    expected = hashlib.sha256()

    def body() -> Iterator[bytes]:
        for _ in range(SIZE_MB):
            expected.update(block)
            yield block

    url = f"{server_process.url}{PROXY}/1/r/artifacts/huge.bin"
    try:
        resp = httpx.put(url, content=body(), timeout=600)
        assert resp.status_code == 200, resp.text
        digest = hashlib.sha256()
        with httpx.stream("GET", url, timeout=600) as download:
            assert download.status_code == 200
            for chunk in download.iter_raw():
                digest.update(chunk)
        assert digest.hexdigest() == expected.hexdigest()
        growth = _peak_rss_mb(pid) - before
        print(f"server peak RSS {before:.0f} MB -> +{growth:.0f} MB for {SIZE_MB} MB up and down")
        assert growth < MAX_GROWTH_MB
    finally:
        shutil.rmtree(server_process.data_dir / "artifacts" / "1", ignore_errors=True)
