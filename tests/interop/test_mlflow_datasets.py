"""The real mlflow 3.17.2 client's `mlflow.genai.datasets` against a Heron server: create,
merge records (deduplicated by inputs), read them back, tags, search, experiments, delete."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.slow

RunMlflow = Callable[..., Any]


def test_mlflow_genai_datasets_work_against_heron(live_server: str, run_mlflow: RunMlflow) -> None:
    result = run_mlflow(
        """
import json
import mlflow
from mlflow.genai.datasets import (create_dataset, delete_dataset, get_dataset, search_datasets,
                                   set_dataset_tags)

experiment_id = mlflow.set_experiment("eval-data").experiment_id
ds = create_dataset(name="questions", experiment_id=experiment_id, tags={"team": "qa"})
ds.merge_records([
    {"inputs": {"question": "What is Heron?"}, "expectations": {"expected_response": "A platform"}},
    {"inputs": {"question": "Who made it?"}, "expectations": {"expected_facts": ["people"]}},
])
ds.merge_records([
    {"inputs": {"question": "What is Heron?"}, "expectations": {"tone": "friendly"}},
])
again = get_dataset(dataset_id=ds.dataset_id)
frame = again.to_df()
rows = sorted(frame.to_dict(orient="records"), key=lambda r: r["inputs"]["question"])
set_dataset_tags(dataset_id=ds.dataset_id, tags={"stage": "gold"})
found = search_datasets(experiment_ids=[experiment_id], filter_string="name = 'questions'")
none = search_datasets(experiment_ids=[experiment_id], filter_string="name = 'other'")
tags = get_dataset(dataset_id=ds.dataset_id).tags
delete_dataset(dataset_id=ds.dataset_id)
try:
    get_dataset(dataset_id=ds.dataset_id)
    gone = False
except Exception as exc:
    gone = "RESOURCE_DOES_NOT_EXIST" in str(exc) or "does not exist" in str(exc)
print(json.dumps({
    "id": ds.dataset_id, "count": len(frame), "expectations": [r["expectations"] for r in rows],
    "found": [d.dataset_id for d in found], "none": len(none), "tags": tags, "gone": gone,
    "experiments": again.experiment_ids,
}))
""",
        MLFLOW_TRACKING_URI=live_server,
    )
    assert result["count"] == 2
    assert result["expectations"] == [
        {"expected_response": "A platform", "tone": "friendly"},
        {"expected_facts": ["people"]},
    ]
    assert result["found"] == [result["id"]]
    assert result["none"] == 0
    assert {k: v for k, v in result["tags"].items() if k != "mlflow.user"} == {
        "team": "qa",
        "stage": "gold",
    }
    assert result["gone"] is True
    assert result["experiments"] == ["1"]


def test_each_mlflow_merge_is_a_heron_version(live_server: str, run_mlflow: RunMlflow) -> None:
    import hashlib

    import httpx

    result = run_mlflow(
        """
import json
import mlflow
from mlflow.genai.datasets import create_dataset, get_dataset

experiment_id = mlflow.set_experiment("eval-versions").experiment_id
ds = create_dataset(name="versioned", experiment_id=experiment_id)
ds.merge_records([{"inputs": {"question": "a"}, "expectations": {"score": 1}}])
first = get_dataset(dataset_id=ds.dataset_id)
ds.merge_records([{"inputs": {"question": "b"}}])
second = get_dataset(dataset_id=ds.dataset_id)
print(json.dumps({"id": ds.dataset_id, "digests": [first.digest, second.digest],
                  "time": second.last_update_time, "schema": second.schema,
                  "profile": second.profile}))
""",
        MLFLOW_TRACKING_URI=live_server,
    )
    # MLflow's own digest, as its client reads it: SHA-256 of name:last_update_time, 8 digits
    expected = hashlib.sha256(f"versioned:{result['time']}".encode()).hexdigest()[:8]
    assert result["digests"][1] == expected != result["digests"][0]
    assert json.loads(result["schema"])["inputs"] == {"question": "string"}
    assert json.loads(result["schema"])["expectations"] == {"score": "integer"}
    assert json.loads(result["profile"]) == {"num_records": 2}
    versions = httpx.get(
        f"{live_server}/api/2.0/heron/datasets/{result['id']}/versions", timeout=30
    ).json()["versions"]
    assert [(v["version"], v["digest"]) for v in versions] == [
        (2, result["digests"][1]),
        (1, result["digests"][0]),
    ]
