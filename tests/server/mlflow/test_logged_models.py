"""MLflow REST /logged-models/*, /runs/outputs and model-linked metrics over real HTTP."""

from __future__ import annotations

import httpx
import pytest

API = "/api/2.0/mlflow"
AJAX = "/ajax-api/2.0/mlflow"
PROXY = "/api/2.0/mlflow-artifacts/artifacts"
MISSING = "m-0123456789abcdef0123456789abcdef"


def _error(resp: httpx.Response) -> tuple[int, str]:
    return resp.status_code, resp.json()["error_code"]


def _create(http: httpx.Client, experiment_id: str, **fields: object) -> dict[str, object]:
    resp = http.post(f"{API}/logged-models", json={"experiment_id": experiment_id, **fields})
    assert resp.status_code == 200, resp.text
    model: dict[str, object] = resp.json()["model"]
    return model


def _model_id(model: dict[str, object]) -> str:
    info = model["info"]
    assert isinstance(info, dict)
    return str(info["model_id"])


@pytest.mark.parametrize("prefix", ["/api", "/ajax-api"])
def test_create_get_finalize_shapes(http: httpx.Client, experiment_id: str, prefix: str) -> None:
    base = f"{prefix}/2.0/mlflow/logged-models"
    resp = http.post(
        base,
        json={
            "experiment_id": experiment_id,
            "name": "clf",
            "model_type": "agent",
            "tags": [{"key": "team", "value": "a"}],
            "params": [{"key": "lr", "value": "0.1"}],
        },
    )
    assert resp.status_code == 200, resp.text
    model = resp.json()["model"]
    info = model["info"]
    model_id = info["model_id"]
    assert info["status"] == "LOGGED_MODEL_PENDING"
    assert info["artifact_uri"] == f"mlflow-artifacts:/{experiment_id}/models/{model_id}/artifacts"
    assert info["tags"] == [{"key": "team", "value": "a"}]
    assert model["data"]["params"] == [{"key": "lr", "value": "0.1"}]
    assert isinstance(info["creation_timestamp_ms"], int)

    done = http.patch(
        f"{base}/{model_id}", json={"model_id": model_id, "status": "LOGGED_MODEL_READY"}
    )
    assert done.json()["model"]["info"]["status"] == "LOGGED_MODEL_READY"
    got = http.get(f"{base}/{model_id}").json()["model"]
    assert got["info"]["status"] == "LOGGED_MODEL_READY"
    assert got["info"]["name"] == "clf"


def test_finalize_needs_a_status(http: httpx.Client, experiment_id: str) -> None:
    model_id = _model_id(_create(http, experiment_id))
    resp = http.patch(f"{API}/logged-models/{model_id}", json={})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")
    resp = http.patch(f"{API}/logged-models/{model_id}", json={"status": "DONE"})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")


def test_tags_params_and_tag_delete_without_a_body(http: httpx.Client, experiment_id: str) -> None:
    model_id = _model_id(_create(http, experiment_id))
    url = f"{API}/logged-models/{model_id}"
    resp = http.patch(f"{url}/tags", json={"tags": [{"key": "env", "value": "dev"},
                                                    {"key": "a/b", "value": "x"}]})  # fmt: skip
    assert resp.status_code == 200, resp.text
    resp = http.post(f"{url}/params", json={"params": [{"key": "depth", "value": "4"}]})
    assert resp.status_code == 200, resp.text
    # MLflow compat: the client deletes a tag with no body and no Content-Type.
    resp = http.request("DELETE", f"{url}/tags/a/b")
    assert resp.status_code == 200, resp.text
    got = http.get(url).json()["model"]
    assert got["info"]["tags"] == [{"key": "env", "value": "dev"}]
    assert got["data"]["params"] == [{"key": "depth", "value": "4"}]
    assert _error(http.request("DELETE", f"{url}/tags/a/b")) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_delete_then_not_found_unless_allow_deleted(http: httpx.Client, experiment_id: str) -> None:
    model_id = _model_id(_create(http, experiment_id))
    url = f"{API}/logged-models/{model_id}"
    assert http.request("DELETE", url).status_code == 200
    assert _error(http.get(url)) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert http.get(url, params={"allow_deleted": "True"}).status_code == 200
    assert _error(http.get(f"{API}/logged-models/{MISSING}")) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_search_with_filter_order_and_pages(http: httpx.Client, experiment_id: str) -> None:
    ids = [_model_id(_create(http, experiment_id, name=f"n{i}")) for i in range(3)]
    url = f"{API}/logged-models/search"
    everything = http.post(url, json={"experiment_ids": [experiment_id]}).json()
    assert [m["info"]["model_id"] for m in everything["models"]] == ids[::-1]
    first = http.post(
        url,
        json={
            "experiment_ids": [experiment_id],
            "filter": "name != 'n1'",
            "order_by": [{"field_name": "name", "ascending": True}],
            "max_results": 1,
        },
    ).json()
    assert [m["info"]["name"] for m in first["models"]] == ["n0"]
    rest = http.post(
        url,
        json={
            "experiment_ids": [experiment_id],
            "filter": "name != 'n1'",
            "order_by": [{"field_name": "name", "ascending": True}],
            "max_results": 1,
            "page_token": first["next_page_token"],
        },
    ).json()
    assert [m["info"]["name"] for m in rest["models"]] == ["n2"]
    assert "next_page_token" not in rest
    bad = http.post(url, json={"experiment_ids": [experiment_id], "filter": "metrics.a >>> 1"})
    assert _error(bad) == (400, "INVALID_PARAMETER_VALUE")
    assert _error(http.post(url, json={"experiment_ids": ["424242"]})) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )


def test_run_outputs_inputs_and_model_metrics(
    http: httpx.Client, experiment_id: str, run_id: str
) -> None:
    model_id = _model_id(_create(http, experiment_id, source_run_id=run_id))
    resp = http.post(
        f"{API}/runs/outputs",
        json={"run_id": run_id, "models": [{"model_id": model_id, "step": 1}]},
    )
    assert resp.status_code == 200, resp.text
    resp = http.post(
        f"{API}/runs/log-inputs", json={"run_id": run_id, "models": [{"model_id": model_id}]}
    )
    assert resp.status_code == 200, resp.text
    batch = {
        "run_id": run_id,
        "metrics": [
            {"key": "plain", "value": 1.0, "timestamp": 5, "step": 0},
            {"key": "acc", "value": 0.9, "timestamp": 5, "step": 1, "model_id": model_id,
             "dataset_name": "eval", "dataset_digest": "abc"},
        ],
    }  # fmt: skip
    assert http.post(f"{API}/runs/log-batch", json=batch).status_code == 200
    single = {"run_id": run_id, "key": "f1", "value": 0.5, "timestamp": 6, "model_id": model_id}
    assert http.post(f"{API}/runs/log-metric", json=single).status_code == 200

    run = http.get(f"{API}/runs/get", params={"run_id": run_id}).json()["run"]
    assert run["outputs"] == {"model_outputs": [{"model_id": model_id, "step": 1}]}
    assert run["inputs"]["model_inputs"] == [{"model_id": model_id}]
    assert {m["key"] for m in run["data"]["metrics"]} == {"plain", "acc", "f1"}
    metrics = http.get(f"{API}/logged-models/{model_id}").json()["model"]["data"]["metrics"]
    by_key = {m["key"]: m for m in metrics}
    assert set(by_key) == {"acc", "f1"}
    assert by_key["acc"] == {"key": "acc", "value": 0.9, "timestamp": 5, "step": 1,
                             "model_id": model_id, "run_id": run_id,
                             "dataset_name": "eval", "dataset_digest": "abc"}  # fmt: skip

    missing = {**single, "model_id": MISSING}
    assert _error(http.post(f"{API}/runs/log-metric", json=missing)) == (
        404,
        "RESOURCE_DOES_NOT_EXIST",
    )
    no_models = http.post(f"{API}/runs/outputs", json={"run_id": run_id})
    assert _error(no_models) == (400, "INVALID_PARAMETER_VALUE")


def test_artifact_listing_and_ajax_file(http: httpx.Client, experiment_id: str) -> None:
    model_id = _model_id(_create(http, experiment_id))
    root = f"{experiment_id}/models/{model_id}/artifacts"
    for path, body in (("MLmodel", b"flavors: {}\n"), ("data/model.pkl", b"\x00\x01")):
        assert http.put(f"{PROXY}/{root}/{path}", content=body).status_code == 200
    listing = http.get(f"{API}/logged-models/{model_id}/artifacts/directories").json()
    assert listing["root_uri"] == f"mlflow-artifacts:/{root}"
    assert {(f["path"], f["is_dir"]) for f in listing["files"]} == {
        ("MLmodel", False),
        ("data", True),
    }
    inner = http.get(
        f"{API}/logged-models/{model_id}/artifacts/directories",
        params={"artifact_directory_path": "data"},
    ).json()
    assert [f["path"] for f in inner["files"]] == ["data/model.pkl"]

    url = f"{AJAX}/logged-models/{model_id}/artifacts/files"
    got = http.get(url, params={"artifact_file_path": "MLmodel"})
    assert got.status_code == 200
    assert got.content == b"flavors: {}\n"
    assert _error(http.get(url)) == (400, "BAD_REQUEST")
    escape = http.get(url, params={"artifact_file_path": "../../../x"})
    assert _error(escape) == (400, "INVALID_PARAMETER_VALUE")
    # the file route is the UI's only
    assert http.get(f"{API}/logged-models/{model_id}/artifacts/files").status_code == 404
