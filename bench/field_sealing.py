"""`heron keys seal`'s speed on this machine: values sealed per second, beside the floor of
the same SELECTs and UPDATEs writing each value back unchanged (no encryption).

    .venv/bin/python bench/field_sealing.py [--values 100000] [--per-run 500] [--rounds 3]

A SQLite database is filled in clear through the stores: runs with `--per-run` params each,
half of them of a sensitive key (`db_password_<i>`, matching `*password*`) and half not, so
`--values` sensitive values in all. Each round copies that database twice and runs, on one
copy then on the other, `seal_clear` (what `heron keys seal` runs) and `sweep` with the
identity (the floor): the same batches, in the same order, with the same compare-and-set
UPDATEs. Wall time and this process's CPU time (SQLite runs in it) are measured for each; the
medians over rounds, values per second and the ratio are printed and written to --json
(default bench-results/field_sealing.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from artifacts import RESULTS

from heron.entities import Param
from heron.store.crypto.fields import PREFIX, FieldCipher, field_cipher
from heron.store.crypto.keys import create_key_file
from heron.store.sql import open_sql_stores
from heron.store.sql.database import Database
from heron.store.sql.sealed_backfill import clear_counts, seal_clear, sweep

VALUE = "s3cr3t-value-of-forty-characters-long-00"


def fill(path: Path, values: int, per_run: int) -> None:
    stores = open_sql_stores(f"sqlite:///{path}", default_artifact_root="mlflow-artifacts:")
    try:
        for _ in range(values // (per_run // 2)):
            run_id = stores.runs.create_run(
                experiment_id="0", user_id="bench", run_name="r", start_time=1, tags={}
            ).info.run_id
            params = [
                *(Param(key=f"db_password_{i}", value=VALUE) for i in range(per_run // 2)),
                *(Param(key=f"lr_{i}", value=VALUE) for i in range(per_run // 2)),
            ]
            stores.runs.log_batch(run_id, metrics=[], params=params, tags=[])
    finally:
        stores.close()


def measure(
    template: Path, work: Path, cipher: FieldCipher, change: Callable[[str], str] | None
) -> dict[str, float]:
    copy = work / "copy.db"
    shutil.copyfile(template, copy)
    database = Database(f"sqlite:///{copy}")
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        done = seal_clear(database, cipher) if change is None else sweep(database, cipher, change)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if change is None:
            assert sum(clear_counts(database, cipher).values()) == 0
            with database.read() as conn:
                sealed = conn.exec_driver_sql(
                    "SELECT count(*) FROM params WHERE value LIKE ?", (PREFIX + "%",)
                ).scalar_one()
            assert sealed == done
    finally:
        database.dispose()
    copy.unlink()
    return {"values": done, "wall_s": wall, "cpu_s": cpu}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--values", type=int, default=100_000)
    parser.add_argument("--per-run", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", type=Path, default=RESULTS / "field_sealing.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir="/tmp") as tmp:
        work = Path(tmp)
        key_file = work / "keys.json"
        create_key_file(key_file)
        cipher = field_cipher(str(key_file), cache_s=60.0, sensitive_keys=["*password*"])
        assert cipher is not None
        template = work / "template.db"
        started = time.perf_counter()
        fill(template, args.values, args.per_run)
        print(f"filled {args.values} sensitive values in {time.perf_counter() - started:.1f} s")
        results: dict[str, list[dict[str, float]]] = {"seal": [], "floor": []}
        for round_ in range(args.rounds):
            results["seal"].append(measure(template, work, cipher, None))
            results["floor"].append(measure(template, work, cipher, lambda value: value))
            print(f"round {round_ + 1}: seal {results['seal'][-1]}, floor {results['floor'][-1]}")
    summary = {}
    for name, runs in results.items():
        wall = statistics.median(r["wall_s"] for r in runs)
        cpu = statistics.median(r["cpu_s"] for r in runs)
        values = runs[0]["values"]
        summary[name] = {
            "values": values,
            "wall_s": round(wall, 3),
            "cpu_s": round(cpu, 3),
            "values_per_s_wall": round(values / wall),
            "values_per_s_cpu": round(values / cpu),
        }
    summary["ratio_wall"] = round(summary["seal"]["wall_s"] / summary["floor"]["wall_s"], 2)
    summary["ratio_cpu"] = round(summary["seal"]["cpu_s"] / summary["floor"]["cpu_s"], 2)
    summary["load_average"] = list(os.getloadavg())
    print(json.dumps(summary, indent=2))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"args": vars(args) | {"json": str(args.json)}, **summary}))


if __name__ == "__main__":
    main()
