"""A newcomer's first start: a fresh copy of the repository, `scripts/heron server`, and the
seconds until `/health` answers, with what the set-up printed and how big `.venv` came out.

    .venv/bin/python bench/first_start.py [--keep]

The copy holds the files git tracks or would (no .venv, no data); the set-up runs as it
would on a fresh clone (uv's and pip's download caches are the machine's). Prints one JSON
line: seconds to /health, the set-up's lines of output, the size of .venv in MiB, and
whether the UI answered."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def fresh_copy(into: Path) -> Path:
    """The files git tracks (and untracked ones it does not ignore), as a clone would hold."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    clone = into / "heron"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = clone / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return clone


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (local URL)
            return bool(response.status == 200)
    except OSError:
        return False


def first_start(clone: Path, timeout_s: float = 600) -> dict[str, object]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["HERON_HOME"] = str(clone / "heron-data")
    log = clone / "first-start.log"
    start = time.monotonic()
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(clone / "scripts" / "heron"), "server", "--port", str(port)],
            cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        try:
            while not answers(f"http://127.0.0.1:{port}/health"):
                if server.poll() is not None or time.monotonic() - start > timeout_s:
                    raise RuntimeError(f"no /health: {log.read_text()[-3000:]}")
                time.sleep(0.1)
            seconds = time.monotonic() - start
            ui = answers(f"http://127.0.0.1:{port}/")
        finally:
            with contextlib.suppress(ProcessLookupError):  # it may have died: say why above
                os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    venv_bytes = sum(f.stat().st_size for f in (clone / ".venv").rglob("*") if f.is_file())
    return {
        "seconds_to_health": round(seconds, 1),
        "output": log.read_text().splitlines(),
        "venv_mib": round(venv_bytes / 2**20),
        "ui": ui,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the copy (its path printed)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="heron-first-start-"))
    try:
        result = first_start(fresh_copy(work))
        if args.keep:
            result["copy"] = str(work)
        print(json.dumps(result))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
