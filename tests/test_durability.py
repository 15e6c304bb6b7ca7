"""Acknowledged writes survive `kill -9` of the server."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

WRITERS = 8


@pytest.mark.slow
def test_every_acknowledged_metric_survives_kill_9(server_process: Any) -> None:
    api = f"{server_process.url}/api/2.0/mlflow"
    with httpx.Client(timeout=10) as http:
        experiment_id = http.post(f"{api}/experiments/create", json={"name": "crash"}).json()[
            "experiment_id"
        ]
        run_id = http.post(f"{api}/runs/create", json={"experiment_id": experiment_id}).json()[
            "run"
        ]["info"]["run_id"]

    acknowledged: list[list[int]] = [[] for _ in range(WRITERS)]
    stop = threading.Event()

    def write(writer: int) -> None:
        with httpx.Client(timeout=5) as http:
            step = 0
            while not stop.is_set():
                body = {
                    "run_id": run_id,
                    "key": f"w{writer}",
                    "value": float(step),
                    "timestamp": 1_700_000_000_000 + step,
                    "step": step,
                }
                try:
                    resp = http.post(f"{api}/runs/log-metric", json=body)
                except httpx.HTTPError:
                    return  # the server is gone: this write was never acknowledged
                if resp.status_code == 200:
                    acknowledged[writer].append(step)
                step += 1

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while sum(map(len, acknowledged)) < 400 and time.monotonic() < deadline:
        time.sleep(0.05)
    server_process.kill()  # mid-load, with requests in flight
    stop.set()
    for t in threads:
        t.join()
    assert sum(map(len, acknowledged)) >= 400, "the load never got going"

    server_process.start()
    with httpx.Client(timeout=10) as http:
        for writer in range(WRITERS):
            resp = http.get(
                f"{api}/metrics/get-history", params={"run_id": run_id, "metric_key": f"w{writer}"}
            )
            stored = {m["step"] for m in resp.json().get("metrics", [])}
            missing = set(acknowledged[writer]) - stored
            assert not missing, f"writer {writer} lost acknowledged steps {sorted(missing)[:10]}"
