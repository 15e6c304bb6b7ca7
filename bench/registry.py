"""Registry search speed, Heron beside MLflow on this machine (issue #4's speed target).

    .venv/bin/python bench/registry.py [--models 10000] [--versions-per-model 5] [--repeats 20]

Starts `heron server` (.venv) and `mlflow server` (../shared/bench/start_mlflow.sh with
.venv-conformance's mlflow) on fresh SQLite databases on the same disk, fills both with the
same registry (10,000 models with a tag each, 50,000 versions with a run id and a tag) by bulk
SQL into each server's own schema (filling through the API would take MLflow most of an hour),
then times the same REST searches against each with the same HTTP client: registered-model and
model-version searches as the mlflow client sends them (it adds
`tag.mlflow.prompt.is_prompt != 'true'` to every filter). The two servers' searches are
interleaved (four of Heron's, one of MLflow's), so that on a shared machine both meet the same
load. Prints medians and the ratios and writes bench-results/registry.json (with the load
average at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from artifacts import (
    HERON_ONLY_HELP,
    RESULTS,
    ROOT,
    start_heron,
    start_mlflow,
    stop_group,
)  # the servers, as bench/artifacts.py starts them

API = "/api/2.0/mlflow"
NOT_PROMPT = "tag.`mlflow.prompt.is_prompt` != 'true'"


def registry_rows(models: int, per_model: int) -> tuple[list[Any], list[Any]]:
    """(models, versions): model-00000 .. with tag team=t<n%10>, versions 1..per_model."""
    now = int(time.time() * 1000)
    model_rows = [(f"model-{i:05d}", now + i, f"t{i % 10}") for i in range(models)]
    version_rows = [
        (f"model-{i:05d}", v, now + i * per_model + v, uuid.uuid4().hex, f"s{v}")
        for i in range(models)
        for v in range(1, per_model + 1)
    ]
    return model_rows, version_rows


def fill_heron(db: Path, models: list[Any], versions: list[Any], per_model: int) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO registered_models (registered_model_id, name, creation_timestamp, "
            "last_updated_timestamp, user_id, description, last_version) "
            "VALUES (?, ?, ?, ?, 'bench', NULL, ?)",
            [(i + 1, name, t, t, per_model) for i, (name, t, _) in enumerate(models)],
        )
        conn.executemany(
            "INSERT INTO registered_model_tags VALUES (?, 'team', ?)",
            [(i + 1, team) for i, (_, _, team) in enumerate(models)],
        )
        ids = {name: i + 1 for i, (name, _, _) in enumerate(models)}
        conn.executemany(
            "INSERT INTO model_versions (registered_model_id, version, creation_timestamp, "
            "last_updated_timestamp, user_id, current_stage, description, source, "
            "storage_location, run_id, run_link, model_id, status, status_message) "
            "VALUES (?, ?, ?, ?, 'bench', 'None', NULL, ?, ?, ?, NULL, NULL, 'READY', NULL)",
            [
                (ids[name], v, t, t, f"runs:/{run}/model", f"mlflow-artifacts:/0/{run}/m", run)
                for name, v, t, run, _ in versions
            ],
        )
        conn.executemany(
            "INSERT INTO model_version_tags VALUES (?, ?, 'stage', ?)",
            [(ids[name], v, stage) for name, v, _, _, stage in versions],
        )
    conn.close()


def fill_mlflow(db: Path, models: list[Any], versions: list[Any]) -> None:
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany(
            "INSERT INTO registered_models (name, creation_time, last_updated_time, description, "
            "workspace) VALUES (?, ?, ?, NULL, 'default')",
            [(name, t, t) for name, t, _ in models],
        )
        conn.executemany(
            "INSERT INTO registered_model_tags (key, value, name, workspace) "
            "VALUES ('team', ?, ?, 'default')",
            [(team, name) for name, _, team in models],
        )
        conn.executemany(
            "INSERT INTO model_versions (name, version, creation_time, last_updated_time, "
            "description, user_id, current_stage, source, run_id, status, status_message, "
            "run_link, storage_location, workspace) VALUES (?, ?, ?, ?, NULL, 'bench', 'None', "
            "?, ?, 'READY', NULL, NULL, ?, 'default')",
            [
                (name, v, t, t, f"runs:/{run}/model", run, f"mlflow-artifacts:/0/{run}/m")
                for name, v, t, run, _ in versions
            ],
        )
        conn.executemany(
            "INSERT INTO model_version_tags (key, value, name, version, workspace) "
            "VALUES ('stage', ?, ?, ?, 'default')",
            [(stage, name, v) for name, v, _, _, stage in versions],
        )
    conn.close()


def queries(versions: list[Any]) -> dict[str, tuple[str, dict[str, Any]]]:
    """The searches, by name: (path, query string), as the mlflow client sends them."""
    run_id = versions[len(versions) // 2][3]

    def f(text: str) -> str:
        return f"{text} AND {NOT_PROMPT}" if text else NOT_PROMPT

    return {
        "models: first page (100)": (
            "/registered-models/search",
            {"filter": f(""), "max_results": 100},
        ),
        "models: name LIKE, ordered": (
            "/registered-models/search",
            {"filter": f("name LIKE 'model-012%'"), "max_results": 100, "order_by": "name DESC"},
        ),
        "models: tag filter, 1000": (
            "/registered-models/search",
            {"filter": f("tags.team = 't3'"), "max_results": 1000},
        ),
        "versions: name =": (
            "/model-versions/search",
            {"filter": f("name = 'model-04242'")},
        ),
        "versions: run_id =": (
            "/model-versions/search",
            {"filter": f(f"run_id = '{run_id}'")},
        ),
        "versions: tag filter, 1000": (
            "/model-versions/search",
            {"filter": f("tags.stage = 's2'"), "max_results": 1000},
        ),
        "versions: first 10000": (
            "/model-versions/search",
            {"filter": f(""), "max_results": 10000},
        ),
    }


def _get(client: httpx.Client, path: str, params: dict[str, Any]) -> httpx.Response:
    """One search; a server may drop a connection under load, so up to three tries."""
    for attempt in range(3):
        try:
            response = client.get(API + path, params=params)
            response.raise_for_status()
            return response
        except httpx.TransportError:
            if attempt == 2:
                raise
            time.sleep(5)
    raise AssertionError("unreachable")


def measure_heron(url: str, path: str, params: dict[str, Any], repeats: int) -> tuple[float, int]:
    """Median seconds of Heron's search alone (--heron-only), and its result count."""
    with httpx.Client(base_url=url, timeout=600) as heron:
        body = _get(heron, path, params).json()
        count = len(body.get("registered_models", body.get("model_versions", [])))
        return statistics.median(_timed(heron, path, params) for _ in range(repeats)), count


def measure_both(
    urls: tuple[str, str], path: str, params: dict[str, Any], repeats: int
) -> tuple[tuple[float, float], tuple[int, int]]:
    """Median seconds of Heron's and MLflow's searches, interleaved (four of Heron's, then one
    of MLflow's, `repeats` of Heron's in all) so that both meet the same load on a shared
    machine; and each one's result count. One warm-up each first."""
    heron_url, mlflow_url = urls
    with (
        httpx.Client(base_url=heron_url, timeout=600) as heron,
        httpx.Client(base_url=mlflow_url, timeout=600) as mlflow,
    ):
        counts = []
        for client in (heron, mlflow):
            body = _get(client, path, params).json()
            counts.append(len(body.get("registered_models", body.get("model_versions", []))))
        heron_s: list[float] = []
        mlflow_s: list[float] = []
        for n in range(repeats):
            heron_s.append(_timed(heron, path, params))
            if n % 4 == 3:
                mlflow_s.append(_timed(mlflow, path, params))
    return (statistics.median(heron_s), statistics.median(mlflow_s)), (counts[0], counts[1])


def _timed(client: httpx.Client, path: str, params: dict[str, Any]) -> float:
    start = time.perf_counter()
    _get(client, path, params)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--versions-per-model", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--heron-only", action="store_true", help=HERON_ONLY_HELP)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="heron-registry-bench-", dir=ROOT.parent))
    heron_group: int | None = None
    mlflow_pid: int | None = None
    models, versions = registry_rows(args.models, args.versions_per_model)
    results: dict[str, dict[str, float]] = {}
    try:
        (scratch / "heron").mkdir()
        heron_url, heron_group = start_heron(scratch / "heron")
        fill_heron(scratch / "heron/heron.db", models, versions, args.versions_per_model)
        if not args.heron_only:
            mlflow_url, mlflow_pid = start_mlflow(scratch / "mlflow")
            fill_mlflow(scratch / "mlflow/mlflow.db", models, versions)
        for name, (path, params) in queries(versions).items():
            if args.heron_only:
                seconds, found = measure_heron(heron_url, path, params, args.repeats)
                results[name] = {"heron_ms": seconds * 1e3, "results": found}
                print(f"{name:30} {found:6d} found  heron {seconds * 1e3:9.1f} ms", flush=True)
                continue
            urls = (heron_url, mlflow_url)
            (heron_s, mlflow_s), (heron_n, mlflow_n) = measure_both(
                urls, path, params, args.repeats
            )
            if heron_n != mlflow_n:
                raise SystemExit(f"{name}: Heron found {heron_n}, MLflow {mlflow_n}")
            results[name] = {"heron_ms": heron_s * 1e3, "mlflow_ms": mlflow_s * 1e3,
                             "ratio": mlflow_s / heron_s, "results": heron_n}  # fmt: skip
            row = results[name]
            print(
                f"{name:30} {heron_n:6d} found  heron {row['heron_ms']:9.1f} ms  "
                f"mlflow {row['mlflow_ms']:9.1f} ms  x{row['ratio']:.1f}",
                flush=True,
            )
    finally:
        if heron_group is not None:
            stop_group(heron_group)
        if mlflow_pid is not None:
            os.killpg(mlflow_pid, signal.SIGTERM)
        shutil.rmtree(scratch, ignore_errors=True)
    summary = {
        "models": args.models,
        "versions": len(versions),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "searches": results,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "registry.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
