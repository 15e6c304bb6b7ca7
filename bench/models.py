"""Model loading and pyfunc predict overhead, Heron beside MLflow on the same model (issue #3).

    .venv/bin/python bench/models.py [--calls 3000] [--loads 30]

Trains the iris LogisticRegression, saves it once with `heron.sklearn.save_model` (cloudpickle,
with an input example, so the signature is enforced at predict), then in each project's own
interpreter (.venv for Heron, .venv-conformance for MLflow 3.17.2), on that same directory:

- load: `pyfunc.load_model(path)`, the first one in a fresh process (imports included) and the
  median of `--loads` more (warm);
- predict: a 1-row DataFrame, `pyfunc_model.predict(row)` beside `estimator.predict(row)` on
  the estimator itself, in 20 alternating batches; the fastest batch of each is taken (noise
  from other load only adds time) and the overhead is their difference per call.

Prints a table and writes bench-results/models.json. Targets: Heron's overhead under 0.2 ms
per predict, Heron's load no slower than MLflow's.
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
MLFLOW_PY = ROOT / ".venv-conformance/bin/python"
RESULTS = Path(os.environ.get("HERON_BENCH_RESULTS", ROOT / "bench-results"))

# Runs in each interpreter: argv = kind, model path, calls, loads. Prints one JSON line.
MEASURE = """
import json, statistics, sys, time, warnings
warnings.filterwarnings("ignore")
kind, path, calls, loads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
start = time.perf_counter()
if kind == "heron":
    import heron.pyfunc as pyfunc
else:
    import mlflow.pyfunc as pyfunc
model = pyfunc.load_model(path)
first_load = time.perf_counter() - start
warm = []
for _ in range(loads):
    start = time.perf_counter()
    pyfunc.load_model(path)
    warm.append(time.perf_counter() - start)
estimator = model.get_raw_model()
import pandas as pd
from sklearn.datasets import load_iris
row = load_iris(as_frame=True).data.head(1)
assert (model.predict(row) == estimator.predict(row)).all()
def per_call(function, n):
    start = time.perf_counter()
    for _ in range(n):
        function(row)
    return (time.perf_counter() - start) / n

for _ in range(200):  # warm up both paths
    estimator.predict(row); model.predict(row)
# Batches of calls, alternating; the fastest batch of each is the least disturbed by other
# load on the machine (noise only ever adds time).
batch = max(calls // 20, 1)
direct, wrapped = [], []
for _ in range(20):
    direct.append(per_call(estimator.predict, batch))
    wrapped.append(per_call(model.predict, batch))
# Heron only: the wrapper's own work per call (signature check, dispatch) with a model that
# does nothing behind it, which no machine load can hide inside sklearn's own time.
wrapper_ms = float("nan")
if kind == "heron":
    from heron.models.pyfunc_model import PyFuncModel

    class Nothing:
        def predict(self, data, params=None):
            return data

    bare = PyFuncModel(model.metadata, Nothing(), model.path)
    wrapper_ms = min(per_call(bare.predict, batch * 5) for _ in range(10)) * 1000.0
ms = 1000.0
print(json.dumps({
    "wrapper_ms": wrapper_ms,
    "first_load_ms": first_load * ms,
    "warm_load_ms": statistics.median(warm) * ms,
    "warm_load_min_ms": min(warm) * ms,
    "sklearn_predict_ms": min(direct) * ms,
    "pyfunc_predict_ms": min(wrapped) * ms,
    "overhead_ms": (min(wrapped) - min(direct)) * ms,
}))
"""


def save_model(directory: Path) -> Path:
    code = f"""
import heron.sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
X, y = load_iris(return_X_y=True, as_frame=True)
heron.sklearn.save_model(LogisticRegression(max_iter=300).fit(X, y), {str(directory)!r},
                         input_example=X.head(2))
"""
    subprocess.run([str(HERON_PY), "-c", code], check=True)
    return directory


def measure(python: Path, kind: str, path: Path, calls: int, loads: int) -> dict[str, float]:
    env = {**os.environ, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "true", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [str(python), "-c", MEASURE, kind, str(path), str(calls), str(loads)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--loads", type=int, default=30)
    parser.add_argument(
        "--heron-only", action="store_true", help="Heron alone, without MLflow (no ratios)"
    )
    args = parser.parse_args()
    if not MLFLOW_PY.exists() and not args.heron_only:
        sys.exit("bench/models.py: run scripts/dev-setup --conformance first")
    kinds = [("heron", HERON_PY)] + ([] if args.heron_only else [("mlflow", MLFLOW_PY)])
    with tempfile.TemporaryDirectory() as temp:
        path = save_model(Path(temp) / "iris")
        results = {
            kind: measure(python, kind, path, args.calls, args.loads) for kind, python in kinds
        }
    rows = [
        ("first load_model, fresh process (ms)", "first_load_ms"),
        ("load_model, warm, median (ms)", "warm_load_ms"),
        ("load_model, warm, fastest (ms)", "warm_load_min_ms"),
        ("estimator.predict, 1 row (ms)", "sklearn_predict_ms"),
        ("pyfunc predict, 1 row (ms)", "pyfunc_predict_ms"),
        ("pyfunc overhead per predict (ms)", "overhead_ms"),
        ("the wrapper's own work per predict (ms)", "wrapper_ms"),
    ]
    print(f"{'':40} " + " ".join(f"{kind:>10}" for kind in results))
    for label, key in rows:
        print(f"{label:40} " + " ".join(f"{found[key]:10.3f}" for found in results.values()))
    overhead, own = results["heron"]["overhead_ms"], results["heron"]["wrapper_ms"]
    print(
        f"\nHeron pyfunc overhead {overhead:.3f} ms per predict, of which the wrapper's own "
        f"work {own:.3f} ms (target < 0.2 ms)"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "models.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
