"""MLflow REST /registered-models/* and /model-versions/* through the app."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

API = "/api/2.0/mlflow"


def _name() -> str:
    return f"model-{uuid.uuid4().hex[:12]}"


def _ok(resp: httpx.Response) -> Any:
    assert resp.status_code == 200, resp.text
    return resp.json()


def _error(resp: httpx.Response) -> tuple[int, str]:
    return resp.status_code, resp.json()["error_code"]


def _version(http: httpx.Client, name: str, **extra: object) -> Any:
    body = {"name": name, "source": "mlflow-artifacts:/0/files/model", **extra}
    return _ok(http.post(f"{API}/model-versions/create", json=body))["model_version"]


@pytest.mark.parametrize("prefix", ["/api", "/ajax-api"])
def test_create_get_model_json_shape(http: httpx.Client, prefix: str) -> None:
    name = _name()
    created = _ok(
        http.post(
            f"{prefix}/2.0/mlflow/registered-models/create",
            json={"name": name, "tags": [{"key": "team", "value": "a"}], "description": "d"},
        )
    )["registered_model"]
    assert created["name"] == name
    assert created["tags"] == [{"key": "team", "value": "a"}]
    assert created["description"] == "d"
    assert isinstance(created["creation_timestamp"], int)
    got = _ok(http.get(f"{prefix}/2.0/mlflow/registered-models/get", params={"name": name}))
    assert got["registered_model"] == created


def test_duplicate_and_missing_codes(http: httpx.Client) -> None:
    name = _name()
    _ok(http.post(f"{API}/registered-models/create", json={"name": name}))
    resp = http.post(f"{API}/registered-models/create", json={"name": name})
    assert _error(resp) == (400, "RESOURCE_ALREADY_EXISTS")
    resp = http.get(f"{API}/registered-models/get", params={"name": _name()})
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")
    resp = http.get(f"{API}/model-versions/get", params={"name": name, "version": "7"})
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")
    resp = http.get(f"{API}/model-versions/get", params={"name": name, "version": "x"})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")
    resp = http.post(f"{API}/registered-models/create", json={})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")
    resp = http.post(f"{API}/registered-models/create", json={"name": "a/b"})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")


def test_version_lifecycle_over_the_wire(http: httpx.Client, run_id: str) -> None:
    name = _name()
    _ok(http.post(f"{API}/registered-models/create", json={"name": name}))
    v1 = _version(http, name, run_id=run_id, tags=[{"key": "k", "value": "v"}])
    assert (v1["version"], v1["status"], v1["current_stage"]) == ("1", "READY", "None")
    assert v1["run_id"] == run_id
    assert v1["tags"] == [{"key": "k", "value": "v"}]
    uri = _ok(
        http.get(f"{API}/model-versions/get-download-uri", params={"name": name, "version": "1"})
    )
    assert uri == {"artifact_uri": "mlflow-artifacts:/0/files/model"}
    updated = _ok(
        http.patch(
            f"{API}/model-versions/update",
            json={"name": name, "version": "1", "description": "first"},
        )
    )["model_version"]
    assert updated["description"] == "first"
    staged = _ok(
        http.post(
            f"{API}/model-versions/transition-stage",
            json={
                "name": name,
                "version": "1",
                "stage": "staging",
                "archive_existing_versions": False,
            },
        )
    )["model_version"]
    assert staged["current_stage"] == "Staging"
    latest = _ok(
        http.get(
            f"{API}/registered-models/get-latest-versions",
            params=[("name", name), ("stages", "Staging")],
        )
    )
    assert [v["version"] for v in latest["model_versions"]] == ["1"]
    _ok(http.request("DELETE", f"{API}/model-versions/delete", json={"name": name, "version": "1"}))
    resp = http.get(f"{API}/model-versions/get", params={"name": name, "version": "1"})
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")
    assert _version(http, name)["version"] == "2"


def test_aliases_and_tags_over_the_wire(http: httpx.Client) -> None:
    name = _name()
    _ok(http.post(f"{API}/registered-models/create", json={"name": name}))
    _version(http, name)
    _version(http, name)
    _ok(
        http.post(
            f"{API}/registered-models/alias",
            json={"name": name, "alias": "champion", "version": "1"},
        )
    )
    _ok(
        http.post(
            f"{API}/registered-models/alias",
            json={"name": name, "alias": "champion", "version": "2"},
        )
    )
    got = _ok(
        http.get(f"{API}/registered-models/alias", params={"name": name, "alias": "champion"})
    )["model_version"]
    assert (got["version"], got["aliases"]) == ("2", ["champion"])
    model = _ok(http.get(f"{API}/registered-models/get", params={"name": name}))
    assert model["registered_model"]["aliases"] == [{"alias": "champion", "version": "2"}]
    _ok(
        http.request(
            "DELETE", f"{API}/registered-models/alias", json={"name": name, "alias": "champion"}
        )
    )
    resp = http.get(f"{API}/registered-models/alias", params={"name": name, "alias": "champion"})
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")
    resp = http.post(
        f"{API}/registered-models/alias", json={"name": name, "alias": "latest", "version": "1"}
    )
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")

    _ok(
        http.post(f"{API}/registered-models/set-tag", json={"name": name, "key": "a", "value": "b"})
    )
    _ok(
        http.post(
            f"{API}/model-versions/set-tag",
            json={"name": name, "version": "1", "key": "c", "value": "d"},
        )
    )
    _ok(
        http.request(
            "DELETE", f"{API}/registered-models/delete-tag", json={"name": name, "key": "a"}
        )
    )
    _ok(
        http.request(
            "DELETE",
            f"{API}/model-versions/delete-tag",
            json={"name": name, "version": "1", "key": "c"},
        )
    )
    model = _ok(http.get(f"{API}/registered-models/get", params={"name": name}))
    assert "tags" not in model["registered_model"]


def test_search_get_only_with_pages(http: httpx.Client) -> None:
    prefix = _name()
    for suffix in ("a", "b", "c"):
        _ok(http.post(f"{API}/registered-models/create", json={"name": f"{prefix}-{suffix}"}))
    params = {"filter": f"name LIKE '{prefix}-%'", "max_results": "2", "order_by": "name DESC"}
    page = _ok(http.get(f"{API}/registered-models/search", params=params))
    assert [m["name"] for m in page["registered_models"]] == [f"{prefix}-c", f"{prefix}-b"]
    rest = _ok(
        http.get(
            f"{API}/registered-models/search",
            params={**params, "page_token": page["next_page_token"]},
        )
    )
    assert [m["name"] for m in rest["registered_models"]] == [f"{prefix}-a"]
    assert "next_page_token" not in rest
    resp = http.get(f"{API}/registered-models/search", params={"filter": "name >< 'x'"})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")
    versions = _ok(
        http.get(f"{API}/model-versions/search", params={"filter": f"name = '{prefix}-a'"})
    )
    assert versions == {}


def test_rename_and_delete(http: httpx.Client) -> None:
    name, new = _name(), _name()
    _ok(http.post(f"{API}/registered-models/create", json={"name": name}))
    _version(http, name)
    resp = http.post(f"{API}/registered-models/rename", json={"name": name})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")
    renamed = _ok(
        http.post(f"{API}/registered-models/rename", json={"name": name, "new_name": new})
    )
    assert renamed["registered_model"]["name"] == new
    _ok(http.patch(f"{API}/registered-models/update", json={"name": new, "description": "x"}))
    _ok(http.request("DELETE", f"{API}/registered-models/delete", json={"name": new}))
    resp = http.get(f"{API}/model-versions/get", params={"name": new, "version": "1"})
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")


def test_source_outside_roots_is_400(http: httpx.Client) -> None:
    name = _name()
    _ok(http.post(f"{API}/registered-models/create", json={"name": name}))
    for source in ("/etc/passwd", "file:///etc/passwd", "mlflow-artifacts:/0/../../x"):
        resp = http.post(f"{API}/model-versions/create", json={"name": name, "source": source})
        assert _error(resp) == (400, "INVALID_PARAMETER_VALUE"), source


def test_namespaces_over_heron_routes(http: httpx.Client) -> None:
    heron_api = "/api/2.0/heron"
    catalog = f"c{uuid.uuid4().hex[:8]}"
    _ok(http.post(f"{heron_api}/catalogs/create", json={"name": catalog, "comment": "x"}))
    _ok(http.post(f"{heron_api}/schemas/create", json={"catalog_name": catalog, "name": "s"}))
    got = _ok(http.get(f"{heron_api}/schemas/get", params={"full_name": f"{catalog}.s"}))
    assert got["schema"]["full_name"] == f"{catalog}.s"
    listed = _ok(http.get(f"{heron_api}/catalogs/list"))
    assert catalog in [c["name"] for c in listed["catalogs"]]
    model = f"{catalog}.s.model"
    _ok(http.post(f"{API}/registered-models/create", json={"name": model}))
    resp = http.post(f"{API}/registered-models/create", json={"name": f"{catalog}.nope.m"})
    assert _error(resp) == (404, "RESOURCE_DOES_NOT_EXIST")
    resp = http.request("DELETE", f"{heron_api}/schemas/delete", json={"full_name": f"{catalog}.s"})
    assert _error(resp) == (400, "INVALID_PARAMETER_VALUE")
    _ok(http.request("DELETE", f"{API}/registered-models/delete", json={"name": model}))
    _ok(http.request("DELETE", f"{heron_api}/schemas/delete", json={"full_name": f"{catalog}.s"}))
    _ok(http.request("DELETE", f"{heron_api}/catalogs/delete", json={"name": catalog}))
