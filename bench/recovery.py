"""Encryption and backup costs, each measured side by side on this machine (issue #20).

    .venv/bin/python bench/recovery.py [--size-mb 1024] [--repeats 3] [--seconds 20]

- Encryption: two `heron server`s on fresh directories, one with `--encryption-key` (a key
  file), one without; a PUT of one big file through the proxy (sent 1 MiB at a time from a
  file) and a GET of it (read 1 MiB at a time), medians of `--repeats`, and the ratio.
- Backup under load: W1 of the shared suite (sequential `log-metric` to one run, one
  keep-alive client) for `--seconds`, once alone and once while `heron backup create` runs
  back to back on the same server's store (its database pre-filled with 200,000 metric
  points and 200 artifact files, so each backup has work to do); the ratio of requests/s.

Prints the figures and writes them to --json (default bench-results/recovery.json).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from artifacts import RESULTS, ROOT, free_port, start_heron, stop_group, wait_healthy
from artifacts import wait_quiet as _wait_quiet

HERON = str(ROOT / ".venv/bin/heron")
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
CHUNK = 1 << 20
QUIET = {"wait": True}


def wait_quiet() -> None:
    if QUIET["wait"]:
        _wait_quiet(timeout_s=60)


def start_encrypted(directory: Path, key_file: Path) -> tuple[str, int]:
    directory.mkdir()
    port = free_port()
    proc = subprocess.Popen(
        [
            HERON, "server", "--host", "127.0.0.1", "--port", str(port),
            "--backend-store-uri", f"sqlite:///{directory}/heron.db",
            "--artifacts-destination", str(directory / "artifacts"),
            "--encryption-key", str(key_file),
        ],
        stdout=subprocess.DEVNULL, stderr=(directory / "server.log").open("wb"),
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    return url, proc.pid


def put_get(url: str, source: Path, name: str) -> tuple[float, float]:
    """Seconds of one PUT and one GET of `source` through the proxy."""
    host = url.removeprefix("http://")
    size = source.stat().st_size
    conn = http.client.HTTPConnection(host, timeout=600)
    start = time.perf_counter()
    conn.putrequest("PUT", f"{PROXY}/0/bench/{name}")
    conn.putheader("Content-Length", str(size))
    conn.endheaders()
    with open(source, "rb") as file:
        while chunk := file.read(CHUNK):
            conn.send(chunk)
    answer = conn.getresponse()
    answer.read()
    put_s = time.perf_counter() - start
    if answer.status != 200:
        raise SystemExit(f"PUT answered {answer.status}")
    start = time.perf_counter()
    conn.request("GET", f"{PROXY}/0/bench/{name}")
    answer = conn.getresponse()
    got = 0
    while chunk := answer.read(CHUNK):
        got += len(chunk)
    get_s = time.perf_counter() - start
    conn.close()
    if got != size:
        raise SystemExit(f"GET returned {got} of {size} bytes")
    return put_s, get_s


def measure_encryption(scratch: Path, size_mb: int, repeats: int) -> dict[str, float]:
    source = scratch / "big.bin"
    with open(source, "wb") as out:
        for _ in range(size_mb):
            out.write(os.urandom(CHUNK))
    key_file = scratch / "keys.json"
    subprocess.run([HERON, "keys", "create", str(key_file)], check=True, capture_output=True)
    plain_url, plain_pid = start_heron(scratch / "plain")
    secret_url, secret_pid = start_encrypted(scratch / "encrypted", key_file)
    times: dict[str, list[float]] = {k: [] for k in ("put", "get", "put_enc", "get_enc")}
    try:
        for n in range(repeats):
            for url, suffix in ((plain_url, ""), (secret_url, "_enc")):
                subprocess.run(["sync"], check=True)
                wait_quiet()
                put_s, get_s = put_get(url, source, f"f{n}.bin")
                times["put" + suffix].append(put_s)
                times["get" + suffix].append(get_s)
    finally:
        stop_group(plain_pid)
        stop_group(secret_pid)
    mib = size_mb
    rates = {k: mib / statistics.median(v) for k, v in times.items()}
    rates["put_ratio"] = rates["put_enc"] / rates["put"]
    rates["get_ratio"] = rates["get_enc"] / rates["get"]
    return rates


def _post(conn: http.client.HTTPConnection, path: str, body: dict[str, object]) -> dict:  # type: ignore[type-arg]
    conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    answer = conn.getresponse()
    data = answer.read()
    if answer.status != 200:
        raise SystemExit(f"{path} answered {answer.status}: {data[:200]!r}")
    return json.loads(data or b"{}")  # type: ignore[no-any-return]


def w1_rate(url: str, run_id: str, seconds: float) -> float:
    conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=60)
    done, start, ts = 0, time.perf_counter(), int(time.time() * 1000)
    while time.perf_counter() - start < seconds:
        body = {"run_id": run_id, "key": "w1", "value": done * 0.5, "timestamp": ts, "step": done}
        _post(conn, "/api/2.0/mlflow/runs/log-metric", body)
        done += 1
    conn.close()
    return done / (time.perf_counter() - start)


def measure_backup_load(scratch: Path, seconds: float, points: int) -> dict[str, float]:
    directory = scratch / "loaded"
    url, pid = start_heron(directory)
    try:
        conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=60)
        run_id = _post(conn, "/api/2.0/mlflow/runs/create", {"experiment_id": "0"})["run"]["info"][
            "run_id"
        ]
        for start in range(0, points, 1000):
            metrics = [
                {"key": f"m{i % 10}", "value": i, "timestamp": 1, "step": start + i}
                for i in range(1000)
            ]
            _post(conn, "/api/2.0/mlflow/runs/log-batch", {"run_id": run_id, "metrics": metrics})
        for i in range(200):
            conn.request("PUT", f"{PROXY}/0/{run_id}/artifacts/f{i}.bin", os.urandom(20_000))
            conn.getresponse().read()
        conn.close()
        wait_quiet()
        alone = w1_rate(url, run_id, seconds)
        stop = threading.Event()
        backups = 0

        def back_up() -> None:
            nonlocal backups
            while not stop.is_set():
                subprocess.run(
                    [
                        HERON, "backup", "create", str(scratch / "backups"),
                        "--backend-store-uri", f"sqlite:///{directory}/heron.db",
                        "--artifacts-destination", str(directory / "artifacts"),
                    ],
                    check=True, capture_output=True,
                )  # fmt: skip
                backups += 1

        wait_quiet()
        worker = threading.Thread(target=back_up)
        worker.start()
        try:
            during = w1_rate(url, run_id, seconds)
        finally:
            stop.set()
            worker.join()
    finally:
        stop_group(pid)
    return {"w1_alone": alone, "w1_during_backups": during, "ratio": during / alone,
            "backups_during": backups}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--only", choices=["encryption", "backup"], default=None)
    parser.add_argument("--json", type=Path, default=RESULTS / "recovery.json")
    parser.add_argument("--no-wait-quiet", action="store_true", help="Do not wait for idle CPUs.")
    args = parser.parse_args()
    QUIET["wait"] = not args.no_wait_quiet
    with tempfile.TemporaryDirectory(prefix="heron-recovery-bench-") as tmp:
        scratch = Path(tmp)
        encryption = (
            measure_encryption(scratch, args.size_mb, args.repeats)
            if args.only in (None, "encryption")
            else None
        )
        backup = (
            measure_backup_load(scratch, args.seconds, args.points)
            if args.only in (None, "backup")
            else None
        )
    if encryption is not None:
        print(f"1 file of {args.size_mb} MiB through the proxy (MiB/s, median of {args.repeats}):")
        print(f"  PUT  plain {encryption['put']:8.1f}  encrypted {encryption['put_enc']:8.1f}"
              f"  ratio {encryption['put_ratio']:.2f}")  # fmt: skip
        print(f"  GET  plain {encryption['get']:8.1f}  encrypted {encryption['get_enc']:8.1f}"
              f"  ratio {encryption['get_ratio']:.2f}")  # fmt: skip
    if backup is not None:
        print(f"W1 log-metric req/s for {args.seconds:.0f} s: alone {backup['w1_alone']:.0f}, "
              f"during {backup['backups_during']:.0f} back-to-back backups "
              f"{backup['w1_during_backups']:.0f}  ratio {backup['ratio']:.2f}")  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    result = {"encryption": encryption, "backup_under_w1": backup, "args": vars(args)}
    args.json.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    sys.exit(main())
