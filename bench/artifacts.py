"""Artifact throughput, Heron beside MLflow on this machine in one run (issue #2's speed targets).

    .venv/bin/python bench/artifacts.py [--size-mb 1024] [--files 1000] [--repeats 3]

Starts `heron server` (.venv) and `mlflow server` (../shared/bench/start_mlflow.sh with
.venv-conformance's mlflow), each on a fresh directory on the same disk, then measures:

- the proxy alone: PUT and GET of one big file with curl (the same client for both servers),
  and GET with Python's http.client reading 1 MiB at a time (curl is the bottleneck of its
  own GET: it copies even a local file, `curl file://...`, at about 0.4 of `cp`'s speed);
- the disk's own copy speed as the physical anchor (`cp` of the same file, and `dd` with
  conv=fsync);
- each project's own SDK: `log_artifact` and `download_artifacts` of the big file, and
  `log_artifacts` of a directory of small files (1-8 KiB), each client against its own server.

Every measure starts after `sync`, so none pays for the writeback of the one before (on this
machine the page cache takes about 1 GB before the disk's own ~300 MiB/s sets the pace), and
every copy or download writes a new file (overwriting one makes ext4 flush it at close).

Prints a table of medians and the ratios, and writes bench-results/artifacts.json.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("HERON_SHARED", ROOT.parent / "shared"))
HERON_PY = ROOT / ".venv/bin/python"
MLFLOW_PY = ROOT / ".venv-conformance/bin/python"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"

# Each SDK logs in its own interpreter; only the logging call is timed.
SDK_SCRIPT = """
import os, shutil, sys, time
kind, uri, target, what = sys.argv[1:5]
if kind == "heron":
    import heron as sdk
    from heron import download_artifacts
else:
    import mlflow as sdk
    from mlflow.artifacts import download_artifacts
sdk.set_tracking_uri(uri)
with sdk.start_run() as run:
    if what == "download":
        sdk.log_artifact(target)
        destination = os.path.join(os.path.dirname(target), "downloaded")
        shutil.rmtree(destination, ignore_errors=True)
        os.sync()
    start = time.perf_counter()
    if what == "dir":
        sdk.log_artifacts(target, "files")
    elif what == "file":
        sdk.log_artifact(target)
    else:
        download_artifacts(
            run_id=run.info.run_id, artifact_path=os.path.basename(target), dst_path=destination
        )
    seconds = time.perf_counter() - start
print("SECONDS", seconds)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, timeout_s: float = 180) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as resp:  # noqa: S310
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no healthy server at {url}")


def start_heron(directory: Path) -> tuple[str, subprocess.Popen[bytes]]:
    port = free_port()
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv/bin/heron"), "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{directory}/heron.db",
            "--artifacts-destination", str(directory / "artifacts"),
        ],
        stdout=subprocess.DEVNULL, stderr=(directory / "server.log").open("wb"),
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url)
    except SystemExit:
        sys.stderr.write((directory / "server.log").read_text())
        raise
    return url, proc


def start_mlflow(directory: Path) -> tuple[str, int]:
    port = free_port()
    env = {**os.environ, "MLFLOW_BIN": str(MLFLOW_PY.parent / "mlflow")}
    subprocess.run(
        ["bash", str(SHARED / "bench/start_mlflow.sh"), str(port), str(directory)],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return f"http://127.0.0.1:{port}", int((directory / "server.pid").read_text())


def timed(action: Callable[[], object], fresh: Path | None = None) -> float:
    """Seconds `action` takes, after `fresh` (the file it writes) is deleted, as a download
    or copy makes a new file (ext4 flushes a file truncated and written again at its close),
    and after `sync`, so no measure pays for the writeback of the one before."""
    if fresh is not None:
        fresh.unlink(missing_ok=True)
    os.sync()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def curl(*args: str) -> None:
    subprocess.run(["curl", "-sSf", "-o", "/dev/null", *args], check=True)


def sdk_seconds(kind: str, url: str, target: Path, what: str) -> float:
    python = HERON_PY if kind == "heron" else MLFLOW_PY
    os.sync()
    out = subprocess.run(
        [str(python), "-c", SDK_SCRIPT, kind, url, str(target), what],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return next(
        float(line.split()[1]) for line in out.stdout.splitlines() if line.startswith("SECONDS ")
    )


def download_in_large_reads(url: str, target: Path) -> None:
    """GET `url` into `target` reading 1 MiB at a time: a client that is not the bottleneck
    (curl writes 16 KiB at a time, and copies even a local file at about 0.4 of `cp`)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port)
    try:
        conn.request("GET", parts.path)
        response = conn.getresponse()
        if response.status != 200:
            raise SystemExit(f"GET {url} answered {response.status}")
        buffer = memoryview(bytearray(1 << 20))
        with target.open("wb", buffering=0) as out:
            while n := response.readinto(buffer):
                out.write(buffer[:n])
    finally:
        conn.close()


def median_of(repeats: int, action: Callable[[int], float]) -> float:
    return statistics.median(action(i) for i in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="heron-artifact-bench-", dir=ROOT.parent))
    results: dict[str, dict[str, float]] = {}
    heron_proc: subprocess.Popen[bytes] | None = None
    mlflow_pid: int | None = None
    try:
        big = scratch / "big.bin"
        with big.open("wb") as out:
            block = os.urandom(1 << 20)
            for _ in range(args.size_mb):
                out.write(block)
        small = scratch / "small"
        small.mkdir()
        for i in range(args.files):
            (small / f"sub{i % 10}").mkdir(exist_ok=True)
            (small / f"sub{i % 10}" / f"f{i}.txt").write_bytes(os.urandom(1024 * (1 + i % 8)))
        mb = args.size_mb

        copy = scratch / "copy.bin"
        results["disk"] = {
            "cp_s": median_of(
                args.repeats, lambda _: timed(lambda: shutil.copyfile(big, copy), fresh=copy)
            ),
            "dd_fsync_s": median_of(
                args.repeats,
                lambda _: timed(
                    lambda: subprocess.run(
                        ["dd", f"if={big}", f"of={copy}", "bs=4M", "conv=fsync"],
                        check=True,
                        capture_output=True,
                    ),
                    fresh=copy,
                ),
            ),
            # The measuring client's own ceiling: curl copying the local file, no server.
            "curl_local_copy_s": median_of(
                args.repeats,
                lambda _: timed(
                    lambda: subprocess.run(
                        ["curl", "-sSf", "-o", str(copy), big.as_uri()], check=True
                    ),
                    fresh=copy,
                ),
            ),
        }
        copy.unlink()

        (scratch / "heron").mkdir()
        heron_url, heron_proc = start_heron(scratch / "heron")
        mlflow_url, mlflow_pid = start_mlflow(scratch / "mlflow")
        for name, url in (("heron", heron_url), ("mlflow", mlflow_url)):
            down = scratch / "down.bin"

            def put(i: int, url: str = url) -> float:
                return timed(lambda: curl("-T", str(big), f"{url}{PROXY}/bench/{i}/big.bin"))

            def get(i: int, url: str = url, down: Path = down) -> float:
                target = f"{url}{PROXY}/bench/{i}/big.bin"
                return timed(
                    lambda: subprocess.run(["curl", "-sSf", "-o", str(down), target], check=True),
                    fresh=down,
                )

            def get_large_reads(i: int, url: str = url, down: Path = down) -> float:
                target = f"{url}{PROXY}/bench/{i}/big.bin"
                return timed(lambda: download_in_large_reads(target, down), fresh=down)

            results[name] = {
                "proxy_put_s": median_of(args.repeats, put),
                "proxy_get_s": median_of(args.repeats, get),
                "proxy_get_large_reads_s": median_of(args.repeats, get_large_reads),
                "sdk_log_artifact_s": median_of(
                    args.repeats, lambda _, n=name, u=url: sdk_seconds(n, u, big, "file")
                ),
                "sdk_log_artifacts_small_s": median_of(
                    args.repeats, lambda _, n=name, u=url: sdk_seconds(n, u, small, "dir")
                ),
                "sdk_download_artifacts_s": median_of(
                    args.repeats, lambda _, n=name, u=url: sdk_seconds(n, u, big, "download")
                ),
            }
            down.unlink(missing_ok=True)
    finally:
        if heron_proc is not None:
            os.killpg(heron_proc.pid, signal.SIGTERM)
        if mlflow_pid is not None:
            os.killpg(mlflow_pid, signal.SIGTERM)
        time.sleep(1)
        shutil.rmtree(scratch, ignore_errors=True)

    h, m, d = results["heron"], results["mlflow"], results["disk"]
    rows = [
        ("proxy PUT (curl)", "proxy_put_s"),
        ("proxy GET (curl)", "proxy_get_s"),
        ("proxy GET (http.client, 1 MiB reads)", "proxy_get_large_reads_s"),
        ("SDK log_artifact (big file)", "sdk_log_artifact_s"),
        (f"SDK log_artifacts ({args.files} small files)", "sdk_log_artifacts_small_s"),
        ("SDK download_artifacts (big file)", "sdk_download_artifacts_s"),
    ]
    print(f"\n{mb} MiB file; disk cp {d['cp_s']:.2f} s ({mb / d['cp_s']:.0f} MiB/s), "
          f"dd+fsync {d['dd_fsync_s']:.2f} s ({mb / d['dd_fsync_s']:.0f} MiB/s), "
          f"curl's own copy of the local file {d['curl_local_copy_s']:.2f} s")  # fmt: skip
    print(f"{'':44} {'Heron':>9} {'MLflow':>9} {'MLflow/Heron':>13} {'Heron/cp':>9}")
    for label, key in rows:
        ratio_cp = f"{d['cp_s'] / h[key]:.2f}" if "small" not in key else ""
        print(f"{label:44} {h[key]:8.2f}s {m[key]:8.2f}s {m[key] / h[key]:12.1f}x {ratio_cp:>9}")
    out = ROOT / "bench-results"
    out.mkdir(exist_ok=True)
    (out / "artifacts.json").write_text(json.dumps({"size_mb": mb, **results}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
