"""Artifact throughput, Heron beside MLflow on this machine in one run (issue #2's speed targets).

    .venv/bin/python bench/artifacts.py [--size-mb 1024] [--files 1000] [--repeats 3]

Starts `heron server` (.venv) and `mlflow server` (../shared/bench/start_mlflow.sh with
.venv-conformance's mlflow), each on a fresh directory on the same disk, then measures:

- the proxy alone: PUT and GET of one big file with curl (the same client for both servers),
  and with clients that are not the bottleneck: a PUT that sends the file with sendfile(2),
  and a GET with Python's http.client reading 1 MiB at a time (curl spends about 0.8 s of
  CPU sending 1 GB, and copies even a local file, `curl file://...`, at 0.4 of `cp`'s speed);
- the disk's own copy speed as the physical anchor (`cp` of the same file, and `dd` with
  conv=fsync), and the floor of any server for those two clients: a bare socket server that
  only moves the bytes (recv_into and write to a new file; sendfile of the file);
- each project's own SDK: `log_artifact` and `download_artifacts` of the big file, and
  `log_artifacts` of a directory of small files (1-8 KiB), each client against its own server.

Every measure starts after `sync`, so none pays for the writeback of the one before (on this
machine the page cache takes about 1 GB before the disk's own ~300 MiB/s sets the pace), and
every copy or download writes a new file (overwriting one makes ext4 flush it at close).

Prints a table of medians and the ratios, and writes bench-results/artifacts.json.
"""

from __future__ import annotations

import argparse
import contextlib
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
# Where every bench script writes its figures (the smoke test points it at a temp dir).
RESULTS = Path(os.environ.get("HERON_BENCH_RESULTS", ROOT / "bench-results"))
HERON_ONLY_HELP = "Heron alone, without MLflow (no ratios): a quick check that the script runs"
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


# The floor for the two clients: an HTTP server that only moves the bytes, one request per
# connection. PUT: recv_into a 1 MiB buffer and write to a new file; GET: sendfile(2).
FLOOR_SERVER = """
import os, socket, sys
port, served, written = int(sys.argv[1]), sys.argv[2], sys.argv[3]
listener = socket.create_server(("127.0.0.1", port))
buffer = memoryview(bytearray(1 << 20))
while True:
    conn, _ = listener.accept()
    head = b""
    while b"\\r\\n\\r\\n" not in head and (more := conn.recv(65536)):
        head += more
    if not head.startswith((b"PUT", b"GET")):  # a probe that connected and left
        conn.close()
        continue
    head, _, body = head.partition(b"\\r\\n\\r\\n")
    if head.startswith(b"PUT"):
        length = int(head.lower().split(b"content-length:")[1].split(b"\\r\\n")[0])
        with open(written, "wb", buffering=0) as out:
            out.write(body)
            left = length - len(body)
            while left > 0 and (n := conn.recv_into(buffer)):
                out.write(buffer[:n])
                left -= n
        conn.sendall(b"HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n")
    else:
        size = os.path.getsize(served)
        conn.sendall(f"HTTP/1.1 200 OK\\r\\nContent-Length: {size}\\r\\n\\r\\n".encode())
        with open(served, "rb") as source:
            conn.sendfile(source)
    conn.close()
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


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


def start_heron(directory: Path) -> tuple[str, int]:
    """Starts `heron server` on the data in `directory` (made if missing) in its own process
    group; returns its URL and the group's id (for `stop_group`)."""
    directory.mkdir(parents=True, exist_ok=True)
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
    return url, proc.pid


def start_mlflow(directory: Path) -> tuple[str, int]:
    """Starts `mlflow server` in its own process group; returns its URL and the group's id."""
    port = free_port()
    env = {**os.environ, "MLFLOW_BIN": str(MLFLOW_PY.parent / "mlflow")}
    subprocess.run(
        ["bash", str(SHARED / "bench/start_mlflow.sh"), str(port), str(directory)],
        check=True, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    return f"http://127.0.0.1:{port}", int((directory / "server.pid").read_text())


class KeepAlive:
    """One keep-alive HTTP connection to a server on 127.0.0.1, opened again when uvicorn has
    closed it (it closes one idle for 5 s, e.g. while another server was measured)."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def request(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes]:
        try:
            self.conn.request(method, path, body=body, headers=headers)
            answer = self.conn.getresponse()
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            answer = self.conn.getresponse()
        return answer.status, answer.read()


class HeronServer:
    """`heron server` (the executable `heron`) on `uri` in its own process group (stop it with
    stop_group(server.pid)), with no job workers, one keep-alive connection to it, and its
    CPU time. `args` are added to the command line."""

    def __init__(self, heron: str, directory: Path, uri: str, artifacts: Path, *args: str) -> None:
        directory.mkdir()
        port = free_port()
        proc = subprocess.Popen(
            [
                heron, "server", "--host", "127.0.0.1", "--port", str(port), "--job-workers", "0",
                "--backend-store-uri", uri, "--artifacts-destination", str(artifacts), *args,
            ],
            stdout=subprocess.DEVNULL, stderr=(directory / "server.log").open("wb"),
            start_new_session=True,
        )  # fmt: skip
        self.pid = proc.pid
        wait_healthy(f"http://127.0.0.1:{port}")
        self.conn = KeepAlive(port)

    def call(self, method: str, path: str, body: bytes | None = None, **headers: str) -> bytes:
        """The answer's body; any status but 200 or 201 ends the bench."""
        status, data = self.conn.request(method, path, body, headers)
        if status not in (200, 201):
            raise SystemExit(f"{method} {path} answered {status}: {data[:300]!r}")
        return data

    def post(self, path: str, payload: object, **headers: str) -> dict[str, object]:
        """POSTs `payload` as JSON; the answer's JSON object."""
        body = json.dumps(payload).encode()
        answer = self.call("POST", path, body, **headers, **{"Content-Type": "application/json"})
        return dict(json.loads(answer))

    def cpu_s(self) -> float:
        return process_cpu_s(self.pid)


def process_cpu_s(pid: int) -> float:
    """The CPU time (user + system) process `pid` has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_group(pgid: int) -> None:
    """SIGTERM to a server's process group, then waits until none of it is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def wait_quiet(idle_fraction: float = 0.9, timeout_s: float = 120) -> None:
    """Waits until the machine's CPUs are idle at least `idle_fraction` of one second."""

    def idle_and_total() -> tuple[int, int]:
        with open("/proc/stat") as stat:
            ticks = [int(n) for n in stat.readline().split()[1:]]
        return ticks[3] + ticks[4], sum(ticks)  # idle + iowait

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        idle0, total0 = idle_and_total()
        time.sleep(1)
        idle1, total1 = idle_and_total()
        if (idle1 - idle0) >= idle_fraction * (total1 - total0):
            return
    print(f"the machine stayed busy for {timeout_s:.0f} s; measuring anyway", file=sys.stderr)


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


def upload_with_sendfile(url: str, source: Path) -> None:
    """PUT `source` to `url`, the body sent with sendfile(2): a client that is not the
    bottleneck (curl reads and sends the file through its own 64 KiB buffer)."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port)
    try:
        conn.putrequest("PUT", parts.path)
        conn.putheader("Content-Length", str(source.stat().st_size))
        conn.putheader("Content-Type", "application/octet-stream")
        conn.endheaders()
        with source.open("rb") as body:
            assert conn.sock is not None
            conn.sock.sendfile(body)
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"PUT {url} answered {response.status}")
    finally:
        conn.close()


def floor_of_any_server(big: Path, scratch: Path, repeats: int) -> dict[str, float]:
    """The two fast clients against FLOOR_SERVER: what any server reaches with them here."""
    port = free_port()
    written, down = scratch / "floor-put.bin", scratch / "floor-get.bin"
    server = subprocess.Popen(
        [sys.executable, "-c", FLOOR_SERVER, str(port), str(big), str(written)],
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/big.bin"
    try:
        deadline = time.monotonic() + 10
        while not listening(port):
            if time.monotonic() > deadline:
                raise SystemExit("the floor server did not start")
            time.sleep(0.05)
        return {
            "floor_put_sendfile_s": median_of(
                repeats, lambda _: timed(lambda: upload_with_sendfile(url, big), fresh=written)
            ),
            "floor_get_large_reads_s": median_of(
                repeats, lambda _: timed(lambda: download_in_large_reads(url, down), fresh=down)
            ),
        }
    finally:
        server.kill()
        server.wait()
        written.unlink(missing_ok=True)
        down.unlink(missing_ok=True)


def median_of(repeats: int, action: Callable[[int], float]) -> float:
    return statistics.median(action(i) for i in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--heron-only", action="store_true", help=HERON_ONLY_HELP)
    parser.add_argument(
        "--no-wait-quiet", action="store_true", help="measure at once, busy machine or not"
    )
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="heron-artifact-bench-", dir=ROOT.parent))
    servers = [("heron", start_heron)] + ([] if args.heron_only else [("mlflow", start_mlflow)])
    results: dict[str, dict[str, float]] = {}
    running: int | None = None  # the process group of the server being measured
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
        results["disk"].update(floor_of_any_server(big, scratch, args.repeats))
        copy.unlink()

        # One server at a time, the other stopped: MLflow's idle workers (3 GB in some 16
        # processes) slowed Heron's downloads 1.5-2x when both ran.
        for name, start in servers:
            url, running = start(scratch / name)
            if not args.no_wait_quiet:
                wait_quiet()  # MLflow's workers go on starting after its first /health answer
            down = scratch / "down.bin"
            # Every upload replaces the last one, deleted from the server's disk first (as cp
            # replaces its copy), so none takes new pages for the page cache while the last
            # upload's stay cached: on this VM a page the guest has not used lately costs
            # several times the copy itself.
            target = f"{url}{PROXY}/bench/big.bin"
            stored = scratch / name / "artifacts/bench/big.bin"

            def put(_: int, target: str = target, stored: Path = stored) -> float:
                return timed(lambda: curl("-T", str(big), target), fresh=stored)

            def put_sendfile(_: int, target: str = target, stored: Path = stored) -> float:
                return timed(lambda: upload_with_sendfile(target, big), fresh=stored)

            def get(_: int, target: str = target, down: Path = down) -> float:
                return timed(
                    lambda: subprocess.run(["curl", "-sSf", "-o", str(down), target], check=True),
                    fresh=down,
                )

            def get_large_reads(_: int, target: str = target, down: Path = down) -> float:
                return timed(lambda: download_in_large_reads(target, down), fresh=down)

            results[name] = {
                "proxy_put_s": median_of(args.repeats, put),
                "proxy_put_sendfile_s": median_of(args.repeats, put_sendfile),
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
            stop_group(running)
            running = None
    finally:
        if running is not None:
            stop_group(running)
        shutil.rmtree(scratch, ignore_errors=True)

    h, m, d = results["heron"], results.get("mlflow"), results["disk"]
    rows = [
        ("proxy PUT (curl)", "proxy_put_s"),
        ("proxy PUT (sendfile)", "proxy_put_sendfile_s"),
        ("proxy GET (curl)", "proxy_get_s"),
        ("proxy GET (http.client, 1 MiB reads)", "proxy_get_large_reads_s"),
        ("SDK log_artifact (big file)", "sdk_log_artifact_s"),
        (f"SDK log_artifacts ({args.files} small files)", "sdk_log_artifacts_small_s"),
        ("SDK download_artifacts (big file)", "sdk_download_artifacts_s"),
    ]
    print(f"\n{mb} MiB file; disk cp {d['cp_s']:.2f} s ({mb / d['cp_s']:.0f} MiB/s), "
          f"dd+fsync {d['dd_fsync_s']:.2f} s ({mb / d['dd_fsync_s']:.0f} MiB/s), "
          f"curl's own copy of the local file {d['curl_local_copy_s']:.2f} s")  # fmt: skip
    print(f"a server that only moves the bytes: PUT (sendfile) {d['floor_put_sendfile_s']:.2f} s, "
          f"GET (1 MiB reads) {d['floor_get_large_reads_s']:.2f} s")  # fmt: skip
    print(f"{'':44} {'Heron':>9} {'MLflow':>9} {'MLflow/Heron':>13} {'Heron/cp':>9}")
    for label, key in rows:
        ratio_cp = f"{d['cp_s'] / h[key]:.2f}" if "small" not in key else ""
        theirs = f"{m[key]:8.2f}s {m[key] / h[key]:12.1f}x" if m else f"{'-':>9} {'-':>13}"
        print(f"{label:44} {h[key]:8.2f}s {theirs} {ratio_cp:>9}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "artifacts.json").write_text(json.dumps({"size_mb": mb, **results}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
