"""Versions of evaluation datasets on SQLite and PostgreSQL: each change of records (added,
updated, deleted) is a version with MLflow's digest, an upsert that changes nothing is none,
every version's records can be read back (paged), and a dataset made before versions existed
becomes version 1 on upgrade."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from tests.store.sql.test_migrations import old_database

from heron.entities.evaluation import dataset_digest
from heron.errors import InvalidParameter, NotFound
from heron.services import AllowAll
from heron.services.datasets import DatasetService


@pytest.fixture
def datasets(stores: Any) -> DatasetService:
    return DatasetService(stores.datasets, stores.experiments, AllowAll())


@pytest.fixture
def exp(stores: Any) -> str:
    name = f"data-{uuid.uuid4().hex[:6]}"
    return str(stores.experiments.create_experiment(name, artifact_location=None, tags={}))


def _records(datasets: DatasetService, dataset_id: str, version: int | None) -> dict[str, Any]:
    page = datasets.get_records(dataset_id, max_results=100, version=version)
    return {r.inputs["q"]: r.expectations for r in page}


def test_each_change_of_records_is_a_version(datasets: DatasetService, exp: str) -> None:
    ds = datasets.create_dataset("qa", experiment_ids=[exp])
    assert ds.version == 0
    assert ds.digest == dataset_digest("qa", ds.created_time)  # MLflow's digest
    assert list(datasets.list_versions(ds.dataset_id)) == []

    datasets.upsert_records(ds.dataset_id, [{"inputs": {"q": "a"}, "expectations": {"x": 1}},
                                            {"inputs": {"q": "b"}}])  # fmt: skip
    v1 = datasets.get_dataset(ds.dataset_id)
    assert (v1.version, json.loads(v1.profile or "")) == (1, {"num_records": 2})
    assert v1.digest == dataset_digest("qa", v1.last_update_time) != ds.digest
    assert json.loads(v1.schema or "")["inputs"] == {"q": "string"}
    assert json.loads(v1.schema or "")["expectations"] == {"x": "integer"}

    # the same records again change nothing: no version, the same digest
    assert datasets.upsert_records(ds.dataset_id, [{"inputs": {"q": "a"}}]) == (0, 1)
    assert datasets.get_dataset(ds.dataset_id).digest == v1.digest

    datasets.upsert_records(ds.dataset_id, [{"inputs": {"q": "a"}, "expectations": {"x": 2}},
                                            {"inputs": {"q": "c"}}])  # fmt: skip
    b = next(r for r in datasets.get_records(ds.dataset_id) if r.inputs["q"] == "b")
    assert datasets.delete_records(ds.dataset_id, [b.dataset_record_id, "dr-gone"]) == 1
    assert datasets.delete_records(ds.dataset_id, ["dr-gone"]) == 0  # nothing: no version

    versions = list(datasets.list_versions(ds.dataset_id))
    assert [v.version for v in versions] == [3, 2, 1]
    assert [(v.inserted_count, v.updated_count, v.deleted_count, v.num_records)
            for v in versions] == [(0, 0, 1, 2), (1, 1, 0, 3), (2, 0, 0, 2)]  # fmt: skip
    assert len({v.digest for v in versions}) == 3
    now = datasets.get_dataset(ds.dataset_id)
    assert (now.version, now.digest) == (3, versions[0].digest)
    assert _records(datasets, ds.dataset_id, 1) == {"a": {"x": 1}, "b": None}
    assert _records(datasets, ds.dataset_id, 2) == {"a": {"x": 2}, "b": None, "c": None}
    assert _records(datasets, ds.dataset_id, 3) == {"a": {"x": 2}, "c": None}
    assert _records(datasets, ds.dataset_id, 3) == _records(datasets, ds.dataset_id, None)
    assert datasets.get_version(ds.dataset_id, 2).num_records == 3


def test_version_pages_and_bad_versions(datasets: DatasetService, exp: str) -> None:
    ds = datasets.create_dataset("paged", experiment_ids=[exp])
    datasets.upsert_records(ds.dataset_id, [{"inputs": {"q": str(i)}} for i in range(5)])
    for i in range(3):
        datasets.upsert_records(ds.dataset_id, [{"inputs": {"q": f"more{i}"}}])
    first = datasets.list_versions(ds.dataset_id, max_results=3)
    assert [v.version for v in first] == [4, 3, 2]
    rest = datasets.list_versions(ds.dataset_id, max_results=3, page_token=first.next_page_token)
    assert ([v.version for v in rest], rest.next_page_token) == ([1], None)

    seen: list[str] = []
    token = None
    while True:
        page = datasets.get_records(ds.dataset_id, max_results=2, page_token=token, version=1)
        seen += [r.inputs["q"] for r in page]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == ["0", "1", "2", "3", "4"]

    with pytest.raises(NotFound, match="no version 9"):
        datasets.get_records(ds.dataset_id, version=9)
    with pytest.raises(NotFound, match="no version 9"):
        datasets.get_version(ds.dataset_id, 9)
    for bad in (0, -1, 2**31, True):
        with pytest.raises(InvalidParameter, match="version"):
            datasets.get_version(ds.dataset_id, bad)
    with pytest.raises(InvalidParameter, match="page_token"):
        datasets.list_versions(ds.dataset_id, page_token="nope")  # noqa: S106
    with pytest.raises(NotFound):
        datasets.list_versions("d-" + "0" * 32)
    datasets.delete_dataset(ds.dataset_id)
    with pytest.raises(NotFound):
        datasets.list_versions(ds.dataset_id)


def test_a_dataset_from_before_versions_is_version_1(database_uri: str, tmp_path: Path) -> None:
    from heron.store.sql import open_sql_stores

    with old_database(database_uri, "0024", runs=0) as conn:
        conn.execute(
            text(
                "INSERT INTO evaluation_datasets (dataset_id, name, digest, created_time, "
                "last_update_time, last_updated_by) VALUES ('d-old', 'old', 'abc', 1, 5, 'ann')"
            )
        )
        for i in range(2):
            conn.execute(
                text(
                    "INSERT INTO evaluation_dataset_records (dataset_record_id, dataset_id, "
                    "input_hash, inputs, created_time, last_update_time) "
                    f"VALUES ('dr-{i}', 'd-old', 'h{i}', '{{\"q\": {i}}}', {i}, {i})"
                )
            )
    stores = open_sql_stores(database_uri, default_artifact_root=str(tmp_path))  # upgrades
    try:
        datasets = DatasetService(stores.datasets, stores.experiments, AllowAll())
        assert datasets.get_dataset("d-old").version == 1
        [v1] = datasets.list_versions("d-old")
        assert (v1.version, v1.digest, v1.num_records, v1.created_by) == (1, "abc", 2, "ann")
        datasets.upsert_records("d-old", [{"inputs": {"q": 5}}])
        assert len(list(datasets.get_records("d-old", version=1))) == 2
        assert len(list(datasets.get_records("d-old", version=2))) == 3
    finally:
        stores.close()


def test_changes_at_once_make_versions_one_after_the_other(
    datasets: DatasetService, exp: str, database_uri: str, tmp_path: Path
) -> None:
    """Two servers on one database (two stores, each its own writer) change records at
    once: each change is its own version."""
    from concurrent.futures import ThreadPoolExecutor

    from heron.store.sql import open_sql_stores

    ds = datasets.create_dataset("busy", experiment_ids=[exp])
    other = open_sql_stores(database_uri, default_artifact_root=str(tmp_path))
    try:
        servers = [datasets, DatasetService(other.datasets, other.experiments, AllowAll())]

        def add(i: int) -> tuple[int, int]:
            return servers[i % 2].upsert_records(ds.dataset_id, [{"inputs": {"q": f"q{i}"}}])

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(add, range(16))) == [(1, 0)] * 16
    finally:
        other.close()
    versions = list(datasets.list_versions(ds.dataset_id))
    assert [v.version for v in versions] == list(range(16, 0, -1))
    assert [v.num_records for v in versions] == list(range(16, 0, -1))
    assert len(list(datasets.get_records(ds.dataset_id, version=16))) == 16
