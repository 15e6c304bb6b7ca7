"""Experiment, logged-model, registered-model and model-version tags (and logged models'
params) of sensitive keys, on a server with --sensitive-keys on SQLite and PostgreSQL: sealed
in the database, read back in clear, searches on their values refused naming the field; and
`heron keys seal` seals those written before encryption was on."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.server.test_field_encryption import API, SECRET, heron, server
from tests.server.test_field_sealing import PATTERNS, dump

MODEL = "fraud-model"


def _ok(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()


def _write_everything(http: httpx.Client) -> dict[str, str]:
    """Tags of a sensitive key (and one of another key) on each kind of object."""
    exp = _ok(http.post(f"{API}/experiments/create", json={"name": "exp"}))["experiment_id"]
    for key, value in (("db_password", SECRET), ("team", "red")):
        tag = {"experiment_id": exp, "key": key, "value": value}
        _ok(http.post(f"{API}/experiments/set-experiment-tag", json=tag))
    made = _ok(
        http.post(
            f"{API}/logged-models",
            json={
                "experiment_id": exp,
                "name": "m",
                "tags": [{"key": "secret.token", "value": SECRET}],
                "params": [{"key": "api_password", "value": SECRET}, {"key": "lr", "value": "1"}],
            },
        )
    )
    model_id = made["model"]["info"]["model_id"]
    more = {"tags": [{"key": "secret.more", "value": SECRET}, {"key": "kind", "value": "tree"}]}
    _ok(http.patch(f"{API}/logged-models/{model_id}/tags", json=more))
    created = {"name": MODEL, "tags": [{"key": "secret.owner", "value": SECRET}]}
    _ok(http.post(f"{API}/registered-models/create", json=created))
    tag = {"name": MODEL, "key": "db_password", "value": SECRET}
    _ok(http.post(f"{API}/registered-models/set-tag", json=tag))
    version = {
        "name": MODEL,
        "source": f"models:/{model_id}",
        "tags": [{"key": "secret.v", "value": SECRET}],
    }
    _ok(http.post(f"{API}/model-versions/create", json=version))
    tag = {"name": MODEL, "version": "1", "key": "db_password", "value": SECRET}
    _ok(http.post(f"{API}/model-versions/set-tag", json=tag))
    return {"experiment_id": exp, "model_id": model_id}


def _read_everything(http: httpx.Client, ids: dict[str, str]) -> dict[str, Any]:
    exp = _ok(http.get(f"{API}/experiments/get", params={"experiment_id": ids["experiment_id"]}))
    found = _ok(http.post(f"{API}/experiments/search", json={"max_results": 10}))
    model = _ok(http.get(f"{API}/logged-models/{ids['model_id']}"))["model"]
    models = _ok(
        http.post(f"{API}/logged-models/search", json={"experiment_ids": [ids["experiment_id"]]})
    )
    registered = _ok(http.get(f"{API}/registered-models/get", params={"name": MODEL}))
    version = _ok(http.get(f"{API}/model-versions/get", params={"name": MODEL, "version": "1"}))
    versions = _ok(http.get(f"{API}/model-versions/search", params={"filter": f"name='{MODEL}'"}))
    activity = _ok(
        http.get("/api/2.0/heron/model-versions/activity", params={"name": MODEL, "version": "1"})
    )
    return {  # pairs sorted by key: the order of a list of tags is not part of the API
        "experiment": _sorted(exp["experiment"]["tags"]),
        "experiments": [_sorted(e.get("tags")) for e in found["experiments"]],
        "model": (_sorted(model["data"]["params"]), _sorted(model["info"].get("tags"))),
        "models": [_sorted(m["info"].get("tags")) for m in models["models"]],
        "registered": _sorted(registered["registered_model"]["tags"]),
        "version": _sorted(version["model_version"]["tags"]),
        "versions": [_sorted(v["tags"]) for v in versions["model_versions"]],
        "activity": [e["detail"] for e in activity["events"]],
    }


def _sorted(pairs: Any) -> list[dict[str, str]]:
    return sorted(pairs or [], key=lambda pair: pair["key"])


def _pairs(items: Any) -> dict[str, str]:
    """Tags as a dict, without Heron's own (`mlflow.*`, never sealed)."""
    return {t["key"]: t["value"] for t in items or [] if not t["key"].startswith("mlflow.")}


def test_tags_of_sensitive_keys_are_sealed_and_read_back_in_clear(
    serve_settings: Any, database_uri: str, tmp_path: Path, key_file: Path
) -> None:
    with server(serve_settings, database_uri, tmp_path, key_file) as http:
        ids = _write_everything(http)
        seen = _read_everything(http, ids)
    assert _pairs(seen["experiment"]) == {"db_password": SECRET, "team": "red"}
    assert {"key": "db_password", "value": SECRET} in seen["experiments"][0]
    params, model_tags = seen["model"]
    assert _pairs(params) == {"api_password": SECRET, "lr": "1"}
    assert _pairs(model_tags) == {"secret.token": SECRET, "secret.more": SECRET, "kind": "tree"}
    assert _pairs(seen["models"][0]) == _pairs(model_tags)
    assert _pairs(seen["registered"]) == {"secret.owner": SECRET, "db_password": SECRET}
    assert _pairs(seen["version"]) == {"secret.v": SECRET, "db_password": SECRET}
    assert _pairs(seen["versions"][0]) == _pairs(seen["version"])
    assert {"key": "db_password", "value": SECRET} in seen["activity"]
    everything = dump(database_uri)
    assert SECRET not in everything
    assert "'red'" in everything  # values of other keys stay in clear
    assert "'tree'" in everything


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("POST", "experiments/search", {"filter": "tags.db_password = 'x'"}, "tag 'db_password'"),
        (
            "POST",
            "logged-models/search",
            {"experiment_ids": ["0"], "filter": "params.api_password = 'x'"},
            "param 'api_password'",
        ),
        (
            "POST",
            "logged-models/search",
            {"experiment_ids": ["0"], "filter": "tags.`secret.token` LIKE '%x%'"},
            "tag 'secret.token'",
        ),
        ("GET", "registered-models/search", {"filter": "tags.db_password = 'x'"}, "'db_password'"),
        ("GET", "model-versions/search", {"filter": "tags.`secret.v` = 'x'"}, "'secret.v'"),
    ],
    ids=["experiment-tag", "logged-model-param", "logged-model-tag", "model-tag", "version-tag"],
)
def test_searches_on_sealed_tags_are_refused(
    serve_settings: Any, tmp_path: Path, key_file: Path, method: str, path: str,
    body: dict[str, Any], field: str,
) -> None:  # fmt: skip
    uri = f"sqlite:///{tmp_path}/heron.db"
    with server(serve_settings, uri, tmp_path, key_file) as http:
        if method == "POST":
            answer = http.post(f"{API}/{path}", json=body)
        else:
            answer = http.get(f"{API}/{path}", params=body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["error_code"] == "INVALID_PARAMETER_VALUE"
        assert field in answer.json()["message"]
        assert "encrypted" in answer.json()["message"]
        presence = {**body, "filter": body["filter"].split(" ")[0] + " IS NULL"}
        if path.startswith("experiments"):
            assert http.post(f"{API}/{path}", json=presence).status_code == 200


@contextlib.contextmanager
def _plain_then_sealed(
    serve_settings: Any, uri: str, tmp_path: Path, key: Path
) -> Iterator[tuple[dict[str, str], dict[str, Any]]]:
    with server(serve_settings, uri, tmp_path, None) as http:
        ids = _write_everything(http)
        yield ids, _read_everything(http, ids)


def test_seal_covers_tags_written_in_clear(
    serve_settings: Any, database_uri: str, tmp_path: Path, key_file: Path
) -> None:
    with _plain_then_sealed(serve_settings, database_uri, tmp_path, key_file) as (ids, before):
        pass
    assert SECRET in dump(database_uri)
    flags = ["--backend-store-uri", database_uri, "--encryption-key", str(key_file)]
    sealed = heron("keys", "seal", *flags, "--sensitive-keys", PATTERNS)
    # 1 experiment tag, 1 logged-model param, 2 of its tags, 2 registered-model tags, 2
    # version tags and the activity log's copy of the one set after the version was made.
    assert "Sealed 9 database values" in sealed.output
    with server(serve_settings, database_uri, tmp_path, key_file) as http:
        assert _read_everything(http, ids) == before
    assert SECRET not in dump(database_uri)
