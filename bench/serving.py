"""The scoring server beside `mlflow models serve` and the in-process floor (issue #17).

    .venv/bin/python bench/serving.py [--quick] [--no-mlflow]

Saves the iris LogisticRegression with MLflow 3.17.2 (`mlflow.sklearn.save_model`, as
../shared/bench/serve_bench.py does), then runs serve_bench.py (W8) on that one directory with
`heron models serve` and `mlflow models serve --env-manager local` (one worker each), and
measures the floor: Heron's `pyfunc` predict in process on the same model, the 1-row body read
into a DataFrame and the answer written as JSON, with no HTTP. Writes bench-results/serving.json
and prints the table the README quotes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERON_PY = ROOT / ".venv/bin/python"
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


def serve_bench(label: str, command: str, model: Path, out: Path, quick: bool) -> dict[str, object]:
    env = {**os.environ, "PATH": f"{MLFLOW_BIN}{os.pathsep}{os.environ['PATH']}"}
    args = ["--start-repeats", "1", "--c1-requests", "300", "--conc-seconds", "5"] if quick else []
    subprocess.run(
        [str(HERON_PY), str(SERVE_BENCH), "--json", str(out), "--no-train", "--no-wait-quiet",
         "--model-dir", str(model), "--serve-cmd", command, "--label", label, *args],
        check=True, env=env,
    )  # fmt: skip
    figures = json.loads(out.read_text())["results"]["W8"]["figures"]
    return {f["name"]: f["value"] for f in figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="short runs (CI smoke)")
    parser.add_argument("--no-mlflow", action="store_true")
    args = parser.parse_args()
    results = RESULTS
    results.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="heron-serving-bench-"))
    model = scratch / "iris-model"
    subprocess.run(
        [str(MLFLOW_BIN / "python"), "-c", SAVE, str(model), str(SERVE_BENCH.parent)], check=True
    )
    floor = json.loads(
        subprocess.run(
            [str(HERON_PY), "-c", FLOOR, str(model), "300" if args.quick else "3000"],
            check=True, capture_output=True, text=True,
        ).stdout.splitlines()[-1]
    )  # fmt: skip
    table = {"floor": floor}
    heron = f"{ROOT}/.venv/bin/heron models serve -m {{model_dir}} -p {{port}} -h 127.0.0.1"
    table["heron"] = serve_bench("heron", heron, model, scratch / "heron.json", args.quick)
    if not args.no_mlflow:
        mlflow = "{mlflow} models serve -m {model_dir} --env-manager local -p {port} -h 127.0.0.1"
        mlflow = mlflow.replace("{mlflow}", str(MLFLOW_BIN / "mlflow"))
        table["mlflow"] = serve_bench("mlflow", mlflow, model, scratch / "mlflow.json", args.quick)
    (results / "serving.json").write_text(json.dumps(table, indent=2))
    print(json.dumps(floor))
    print(f"{'figure':<22} {'heron':>10} {'mlflow':>10}")
    for name in FIGURES:
        print(
            f"{name:<22} {table['heron'].get(name)!s:>10} {table.get('mlflow', {}).get(name)!s:>10}"
        )


if __name__ == "__main__":
    sys.exit(main())
