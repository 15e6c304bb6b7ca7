"""The scoring server and managed endpoints beside `mlflow models serve`, and the floor
(issue #17).

    .venv/bin/python bench/serving.py [--quick | --smoke] [--no-mlflow] [--no-endpoint]

Saves the iris LogisticRegression with MLflow 3.17.2 (`mlflow.sklearn.save_model`, as
../shared/bench/serve_bench.py does), then runs serve_bench.py (W8) on that one directory with
`heron models serve` and `mlflow models serve --env-manager local` (one worker each); then
registers the same directory in a `heron server --serve-endpoints` (one replica) and runs W8
through `/serving-endpoints/iris/invocations` (the hop included), with the inference table off
and on. It also measures the floor: Heron's `pyfunc` predict in process on the same model, the
1-row body read into a DataFrame and the answer written as JSON, with no HTTP. Writes
bench-results/serving.json and prints the table the docs quote. `--smoke` runs every part at a
tiny scale without MLflow's server (the test suite runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
HERON_PY = ROOT / ".venv/bin/python"
HERON_BIN = ROOT / ".venv/bin/heron"
MLFLOW_BIN = ROOT / ".venv-conformance/bin"
SERVE_BENCH = Path(os.environ.get("HERON_SHARED", ROOT.parent / "shared")) / "bench/serve_bench.py"
RESULTS = Path(os.environ.get("HERON_BENCH_RESULTS", ROOT / "bench-results"))

SAVE = """
import sys, types
sys.modules.setdefault("httpx", types.ModuleType("httpx"))  # serve_bench imports it
sys.path.insert(0, sys.argv[2])
import serve_bench
print(serve_bench.train_and_save(sys.argv[1]))
"""

FLOOR = """
import json, statistics, sys, time
import heron.pyfunc
from heron.serving import protocol
model = heron.pyfunc.load_model(sys.argv[1])
columns = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
def body(n):
    rows = [[5.1, 3.5, 1.4, 0.2]] * n
    return json.dumps({"dataframe_split": {"columns": columns, "data": rows}}).encode()
def once(raw):
    request = protocol.parse_json(raw)
    data = protocol.model_input(request, model.metadata.signature.inputs)
    return protocol.render(model.predict(data))
def p50(raw, calls):
    for _ in range(50):
        once(raw)
    times = []
    for _ in range(calls):
        t = time.perf_counter(); once(raw); times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000
one = p50(body(1), int(sys.argv[2]))
print(json.dumps({"floor_1row_p50_ms": round(one, 3), "floor_1row_per_s": round(1000 / one),
                  "floor_1000rows_p50_ms": round(p50(body(1000), 100), 3)}))
"""

FIGURES = (
    "start_to_ping", "server_rss_idle", "c1_latency_p50", "c1_requests_per_s",
    "c16_requests_per_s", "c16_latency_p50", "c16_non_2xx", "batch_latency_p50",
)  # fmt: skip
SCALES = {
    "full": [],
    "quick": ["--start-repeats", "1", "--c1-requests", "300", "--conc-seconds", "5"],
    "smoke": ["--start-repeats", "1", "--c1-requests", "20", "--conc-seconds", "1",
              "--batch-calls", "2", "--batch-rows", "100"],
}  # fmt: skip


def serve_bench(label: str, out: Path, scale: str, *how: str) -> dict[str, object]:
    """W8 on a server serve_bench starts (`--serve-cmd ...`) or one running (`--url ...`)."""
    env = {**os.environ, "PATH": f"{MLFLOW_BIN}{os.pathsep}{os.environ['PATH']}"}
    subprocess.run(
        [str(HERON_PY), str(SERVE_BENCH), "--json", str(out), "--no-train", "--no-wait-quiet",
         "--label", label, *how, *SCALES[scale]],
        check=True, env=env,
    )  # fmt: skip
    result = json.loads(out.read_text())["results"]["W8"]
    if result["errors"]:
        raise RuntimeError(f"{label}: {result['errors']}")
    return {f["name"]: f["value"] for f in result["figures"]}


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(check: object, what: str, timeout_s: float = 300) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():  # type: ignore[operator]
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"timed out waiting for {what}")


def endpoint_figures(model: Path, scratch: Path, scale: str) -> dict[str, dict[str, object]]:
    """W8 through a managed endpoint: the model registered in a `heron server
    --serve-endpoints` with one replica, capture off, then on."""
    home, port = scratch / "heron-home", _port()
    url = f"http://127.0.0.1:{port}"
    log = open(scratch / "endpoint-server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [str(HERON_BIN), "server", "--port", str(port), "--backend-store-uri",
         f"sqlite:///{home}/heron.db", "--artifacts-destination", str(home / "artifacts"),
         "--serve-endpoints", "--endpoint-replicas", "1"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=url, timeout=60) as http:
            _wait(lambda: http.get("/health").status_code == 200, "heron server")
            _register(url, model)
            entity = {"name": "iris", "entity_name": "iris", "entity_version": "1"}
            body = {"name": "iris", "config": {"served_entities": [entity]}}
            http.post("/api/2.0/serving-endpoints", json=body).raise_for_status()

            def ready() -> bool:
                state = http.get("/api/2.0/serving-endpoints/iris").json()["state"]
                return bool(state == {"ready": "READY", "config_update": "NOT_UPDATING"})

            _wait(ready, "the endpoint's replica")
            on_endpoint = ("--url", f"{url}/serving-endpoints/iris")
            figures = {
                "endpoint": serve_bench("endpoint", scratch / "ep.json", scale, *on_endpoint)
            }
            table = {"inference_table_config": {"enabled": True}}
            http.put("/api/2.0/serving-endpoints/iris/ai-gateway", json=table).raise_for_status()
            time.sleep(1.0)  # the route re-reads the endpoint every 0.5 s
            figures["endpoint_capture"] = serve_bench(
                "endpoint+capture", scratch / "ep-capture.json", scale, *on_endpoint
            )
            time.sleep(1.0)
            found = http.get(
                "/api/2.0/heron/inference-records/search",
                params={"endpoint_name": "iris", "max_results": 1},
            ).json()["records"]
            figures["endpoint_capture"]["captured_some"] = bool(found)
            return figures
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(60)
        log.close()


def _register(url: str, model: Path) -> None:
    import heron

    heron.set_tracking_uri(url)
    try:
        with heron.start_run() as run:
            heron.log_artifacts(str(model), "model")
        heron.register_model(f"runs:/{run.info.run_id}/model", "iris")
    finally:
        heron.set_tracking_uri(None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs")
    parser.add_argument("--smoke", action="store_true", help="tiny runs, no MLflow server")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--no-endpoint", action="store_true")
    args = parser.parse_args()
    scale = "smoke" if args.smoke else "quick" if args.quick else "full"
    results = RESULTS
    results.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="heron-serving-bench-"))
    model = scratch / "iris-model"
    subprocess.run(
        [str(MLFLOW_BIN / "python"), "-c", SAVE, str(model), str(SERVE_BENCH.parent)], check=True
    )
    floor = json.loads(
        subprocess.run(
            [str(HERON_PY), "-c", FLOOR, str(model), "30" if args.smoke else "3000"],
            check=True, capture_output=True, text=True,
        ).stdout.splitlines()[-1]
    )  # fmt: skip
    table: dict[str, dict[str, object]] = {"floor": floor}
    heron = f"{HERON_BIN} models serve -m {{model_dir}} -p {{port}} -h 127.0.0.1"
    how = ("--model-dir", str(model), "--serve-cmd", heron)
    table["heron"] = serve_bench("heron", scratch / "heron.json", scale, *how)
    if not (args.no_mlflow or args.smoke):
        mlflow = f"{MLFLOW_BIN / 'mlflow'} models serve -m {{model_dir}} --env-manager local "
        how = ("--model-dir", str(model), "--serve-cmd", mlflow + "-p {port} -h 127.0.0.1")
        table["mlflow"] = serve_bench("mlflow", scratch / "mlflow.json", scale, *how)
    if not args.no_endpoint:
        table.update(endpoint_figures(model, scratch, scale))
    name = "serving-smoke.json" if args.smoke else "serving.json"
    (results / name).write_text(json.dumps(table, indent=2))
    print(json.dumps(floor))
    columns = [c for c in ("heron", "mlflow", "endpoint", "endpoint_capture") if c in table]
    print(f"{'figure':<22}" + "".join(f"{c:>18}" for c in columns))
    for figure in FIGURES:
        print(f"{figure:<22}" + "".join(f"{table[c].get(figure)!s:>18}" for c in columns))


if __name__ == "__main__":
    sys.exit(main())
