"""heron.genai.evaluate beside mlflow.genai.evaluate: the same rows, one code scorer and two
judges (Correctness, RelevanceToQuery) against the same local OpenAI-compatible judge server
that takes `--delay-ms` an answer (tests/genai/judge_server.py, model `slow-<ms>`).

    .venv/bin/python bench/genai_eval.py [--rows 500] [--delay-ms 100] [--with-mlflow]

Heron runs with its defaults (16 rows at once) in process on a fresh data directory; MLflow
(with --with-mlflow, .venv-conformance) with its defaults (no MLFLOW_GENAI_* variables) on a
fresh SQLite file, in its own interpreter. The floor is rows x judges x delay / 16. Prints one
JSON line per side and a summary."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MLFLOW_PYTHON = ROOT / ".venv-conformance" / "bin" / "python"
JUDGES = 2

MLFLOW_SIDE = """
import json, os, sys, time
import mlflow
from mlflow.genai.scorers import Correctness, RelevanceToQuery, scorer
mlflow.set_tracking_uri(sys.argv[1])
mlflow.set_experiment("bench")
rows, model = int(sys.argv[2]), sys.argv[3]

@scorer
def short(outputs) -> bool:
    return len(outputs) < 100

def app(question):
    return f"The answer to {question} is {len(question)}."

data = [{"inputs": {"question": f"question {i}"},
         "expectations": {"expected_facts": [f"the answer is {len(f'question {i}')}"]}}
        for i in range(rows)]
start = time.perf_counter()
result = mlflow.genai.evaluate(data=data, predict_fn=app, scorers=[
    short, Correctness(model=f"openai:/{model}"), RelevanceToQuery(model=f"openai:/{model}")])
print(json.dumps({"side": "mlflow", "seconds": time.perf_counter() - start,
                  "metrics": result.metrics}))
"""


SERVE_JUDGE = """
import importlib.util, socket, sys, uvicorn
spec = importlib.util.spec_from_file_location("judge_server", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
sock = socket.socket()
sock.bind(("127.0.0.1", 0))
print(sock.getsockname()[1], flush=True)
uvicorn.Server(uvicorn.Config(module.JudgeServer().app, log_level="warning")).run(sockets=[sock])
"""


def serve_judge() -> tuple[str, subprocess.Popen[str]]:
    """The judge server in a process of its own (its CPU is not the evaluation's)."""
    path = ROOT / "tests" / "genai" / "judge_server.py"
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE_JUDGE, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(200):
        try:
            import httpx

            httpx.post(
                f"{url}/chat/completions",
                json={"model": "judge", "messages": [{"role": "user", "content": "ping"}]},
                timeout=5,
            )
            break
        except httpx.TransportError:
            time.sleep(0.05)
    return url, proc


def data(rows: int) -> list[dict[str, Any]]:
    return [
        {
            "inputs": {"question": f"question {i}"},
            "expectations": {"expected_facts": [f"the answer is {len(f'question {i}')}"]},
        }
        for i in range(rows)
    ]


def run_heron(rows: int, model: str, home: str) -> dict[str, Any]:
    import heron
    import heron.genai as genai
    from heron.genai.scorers import Correctness, RelevanceToQuery

    heron.set_tracking_uri(home)
    heron.set_experiment("bench")

    @genai.scorer
    def short(outputs: str) -> bool:
        return len(outputs) < 100

    def app(question: str) -> str:
        return f"The answer to {question} is {len(question)}."

    start, cpu = time.perf_counter(), time.process_time()
    result = genai.evaluate(
        data(rows),
        predict_fn=app,
        progress=False,
        scorers=[short, Correctness(model=model), RelevanceToQuery(model=model)],
    )
    seconds = time.perf_counter() - start
    assert result.written.failures == 0, result.written.errors
    return {
        "side": "heron",
        "seconds": seconds,
        # the evaluation's own CPU (all its threads; the judge server is another process)
        "cpu_s": time.process_time() - cpu,
        "load_average": os.getloadavg()[0],
        "metrics": dict(result.metrics),
        "stored_assessments": result.written.assessments,
    }


def bare_calls(url: str, model: str, calls: int, concurrency: int = 16) -> dict[str, Any]:
    """The same number of judge calls made bare (httpx, `concurrency` threads, no evaluation
    around them): what the judge server and this machine allow now, the floor as measured."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    body = {"model": model, "messages": [{"role": "user", "content": "Is it correct? yes"}]}
    with httpx.Client(limits=httpx.Limits(max_connections=concurrency)) as client:

        def one(_: int) -> None:
            client.post(f"{url}/chat/completions", json=body, timeout=60).raise_for_status()

        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            list(pool.map(one, range(calls)))
        seconds = time.perf_counter() - start
    return {"side": "bare_calls", "calls": calls, "seconds": seconds,
            "load_average": os.getloadavg()[0]}  # fmt: skip


def run_mlflow(rows: int, model: str, judge_url: str, workdir: str) -> dict[str, Any]:
    script = Path(workdir) / "mlflow_side.py"
    script.write_text(MLFLOW_SIDE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "HERON_"))}
    env.update(
        OPENAI_API_KEY="bench",
        OPENAI_API_BASE=judge_url,
        OPENAI_BASE_URL=judge_url,
        PYTHONWARNINGS="ignore",
        GIT_PYTHON_REFRESH="quiet",
    )
    done = subprocess.run(
        [str(MLFLOW_PYTHON), str(script), f"sqlite:///{workdir}/mlflow.db", str(rows), model],
        capture_output=True,
        text=True,
        env=env,
        cwd=workdir,
        timeout=3600,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"mlflow side failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def dataset_load(records: int, tracking_uri: str) -> dict[str, Any]:
    """Seconds to read a dataset of `records` into evaluate's rows (best of three)."""
    import heron
    import heron.genai as genai
    from heron.genai.evaluation.rows import rows_of

    heron.set_tracking_uri(tracking_uri)
    heron.set_experiment("bench-dataset")
    ds = genai.datasets.create_dataset(f"records-{records}")
    ds.merge_records(
        [
            {
                "inputs": {"question": f"question number {i}", "context": "x" * 100},
                "expectations": {"expected_response": f"answer {i}"},
            }
            for i in range(records)
        ]
    )
    times, cpus = [], []
    for _ in range(3):
        start, cpu = time.perf_counter(), time.process_time()
        rows = rows_of(genai.datasets.get_dataset(ds.dataset_id).pinned())  # as evaluate reads
        times.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)  # this process's (not the server's)
        assert len(rows) == records
    heron.set_tracking_uri(None)
    return {
        "side": "dataset_load",
        "records": records,
        "where": tracking_uri.split(":")[0],
        "seconds": min(times),
        "cpu_s": min(cpus),
        "load_average": os.getloadavg()[0],
    }


def heron_server(home: str) -> tuple[str, subprocess.Popen[bytes]]:
    import socket

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "heron"),
            "server",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{home}/heron.db",
            "--artifacts-destination",
            f"{home}/artifacts",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.1)
    return url, proc


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument(
        "--dataset-records",
        type=int,
        default=0,
        help="also time loading a dataset of this many records (in process "
        "and from a heron server)",
    )
    parser.add_argument("--delay-ms", type=int, default=100)
    parser.add_argument("--with-mlflow", action="store_true")
    args = parser.parse_args()
    if args.dataset_records:
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(dataset_load(args.dataset_records, f"{tmp}/local")))
            url, server = heron_server(tmp)
            try:
                print(json.dumps(dataset_load(args.dataset_records, url)))
            finally:
                server.terminate()
                server.wait(30)
    if not args.rows:
        return
    url, judge = serve_judge()
    try:
        compare(args.rows, args.delay_ms, url, args.with_mlflow)
    finally:
        judge.terminate()
        judge.wait(10)


def compare(rows: int, delay_ms: int, url: str, with_mlflow: bool) -> None:
    model = f"slow-{delay_ms}"
    os.environ.update(HERON_JUDGE_BASE_URL=url, HERON_JUDGE_MODEL=model, HERON_JUDGE_API_KEY="x")
    floor = rows * JUDGES * delay_ms / 1000 / 16
    with tempfile.TemporaryDirectory() as tmp:
        bare = bare_calls(url, model, rows * JUDGES)
        print(json.dumps(bare))
        heron_side = run_heron(rows, model, str(Path(tmp) / "heron"))
        heron_side.update(
            floor_s=floor,
            ratio_to_floor=heron_side["seconds"] / max(floor, 1e-9),
            ratio_to_bare_calls=heron_side["seconds"] / bare["seconds"],
        )
        print(json.dumps(heron_side))
        if with_mlflow:
            mlflow_side = run_mlflow(rows, model, url, tmp)
            print(json.dumps(mlflow_side))
            speedup = mlflow_side["seconds"] / heron_side["seconds"]
            print(
                f"heron {heron_side['seconds']:.2f} s ({heron_side['ratio_to_floor']:.2f}x the "
                f"floor of {floor:.2f} s); mlflow {mlflow_side['seconds']:.2f} s; heron is "
                f"{speedup:.1f}x faster",
                file=sys.stderr,
            )


if __name__ == "__main__":
    main()
