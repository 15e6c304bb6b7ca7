"""Dataset versions through Heron's SDK, in process and over HTTP: listing a dataset's
versions, reading one, and evaluating a pinned version (the run names the dataset and the
version, so two evaluations are comparable and can be run again on the same records)."""

from __future__ import annotations

import httpx
import pytest

import heron
import heron.genai as genai
from heron.client.fluent.state import tracking_client
from heron.errors import InvalidParameter, NotFound
from heron.genai.datasets import create_dataset, get_dataset
from heron.genai.scorers import ExactMatch


def _app(q: str) -> str:
    a, b = q.split("+")
    return str(int(a) + int(b))


def test_versions_are_listed_and_evaluated_as_pinned(destination: str) -> None:
    heron.set_experiment("versions")
    ds = create_dataset("sums")
    assert (ds.version, ds.versions()) == (0, [])
    ds.merge_records([{"inputs": {"q": f"{i}+{i}"}, "expectations": {"expected_response":
                       str(2 * i)}} for i in range(3)])  # fmt: skip
    first_digest = ds.digest
    ds.merge_records([{"inputs": {"q": "1+1"}, "expectations": {"expected_response": "3"}}])
    ds.delete_records([r.dataset_record_id for r in ds.records() if r.inputs["q"] == "0+0"])

    assert [(v.version, v.num_records) for v in ds.versions()] == [(3, 2), (2, 3), (1, 3)]
    assert ds.version == 3
    v1 = get_dataset(ds.dataset_id, version=1)
    assert (v1.version, v1.digest) == (1, first_digest)
    assert sorted(r.inputs["q"] for r in v1.records()) == ["0+0", "1+1", "2+2"]
    with pytest.raises(InvalidParameter, match="fixed"):
        v1.merge_records([{"inputs": {"q": "9+9"}}])
    with pytest.raises(NotFound):
        ds.at_version(7)

    old = genai.evaluate(v1, predict_fn=_app, scorers=[ExactMatch()])
    new = genai.evaluate(ds, predict_fn=_app, scorers=[ExactMatch()])

    assert old.metrics["exact_match/mean"] == 1.0
    assert new.metrics["exact_match/mean"] == 0.5  # 1+1 now expects 3
    for result, version in ((old, v1), (new, ds.at_version(3))):
        run = heron.get_run(result.run_id)
        assert run.data.tags["heron.eval.datasetId"] == ds.dataset_id
        assert run.data.tags["heron.eval.datasetVersion"] == str(version.version)
        [used] = run.dataset_inputs
        assert (used.dataset.name, used.dataset.digest) == ("sums", version.digest)
    # the same record pairs the rows of both evaluations
    assert {r.key for r in old.rows} > {r.key for r in new.rows}


def test_version_routes_over_http(live_server: str) -> None:
    heron.set_tracking_uri(live_server)
    try:
        heron.set_experiment("routes")
        ds = create_dataset("wire")
        ds.merge_records([{"inputs": {"q": "a"}}])
        api = f"{live_server}/api/2.0/heron/datasets/{ds.dataset_id}/versions"
        listed = httpx.get(api).json()
        assert [v["version"] for v in listed["versions"]] == [1]
        assert listed["versions"][0]["digest"] == ds.digest
        records = httpx.get(f"{api}/1/records").json()["records"]
        assert [r["inputs"] for r in records] == [{"q": "a"}]
        missing = httpx.get(f"{api}/5")
        assert (missing.status_code, missing.json()["error_code"]) == (
            404, "RESOURCE_DOES_NOT_EXIST",
        )  # fmt: skip
        bad = httpx.get(f"{api}/x/records")
        assert (bad.status_code, bad.json()["error_code"]) == (400, "INVALID_PARAMETER_VALUE")
        # MLflow's own dataset route keeps its wire: no field of Heron's added
        got = httpx.get(f"{live_server}/api/3.0/mlflow/datasets/{ds.dataset_id}").json()
        assert "version" not in got["dataset"]
        assert got["dataset"]["digest"] == ds.digest
    finally:
        tracking_client().close()
        heron.set_tracking_uri(None)
