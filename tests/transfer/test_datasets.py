"""Evaluation datasets through `heron import` / `heron export` with a real Heron server on
the other side: records whole (across pages), tags, linked experiments mapped, a second run
copying nothing, and a copy cut short finished without duplicate records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from heron import HeronClient
from heron.cli.main import main
from heron.entities.evaluation import DatasetRecord
from heron.settings import Settings
from heron.transfer.base import COMPLETE
from heron.transfer.datasets import SOURCE_DATASET

RECORDS = 1500  # more than one page of records


def heron(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"COLUMNS": "200"})


def store_flags(data: Path) -> list[str]:
    return [
        "--backend-store-uri",
        f"sqlite:///{data / 'heron.db'}",
        "--artifacts-destination",
        str(data / "artifacts"),
    ]


def _records(client: HeronClient, dataset_id: str) -> dict[str, DatasetRecord]:
    page = client.backend.datasets.get_records(dataset_id, max_results=10_000)
    assert page.next_page_token is None
    return {r.inputs["question"]: r for r in page.items}


def _fill(client: HeronClient) -> str:
    experiment_id = client.create_experiment("qa")
    datasets = client.backend.datasets
    dataset = datasets.create_dataset(
        "golden", experiment_ids=[experiment_id], tags={"owner": "ana"}
    )
    items: list[dict[str, Any]] = [
        {
            "inputs": {"question": f"q{i}"},
            "expectations": {"answer": f"a{i}"},
            "tags": {"split": "test" if i % 2 else "train"},
            "source": {"source_type": "HUMAN", "source_data": {"user": "ana"}},
        }
        for i in range(RECORDS)
    ]
    items[0]["outputs"] = {"text": "first"}
    datasets.upsert_records(dataset.dataset_id, items[:1000])
    datasets.upsert_records(dataset.dataset_id, items[1000:])
    datasets.create_dataset("empty")
    return dataset.dataset_id


def _check(client: HeronClient, source_id: str) -> None:
    datasets = {d.name: d for d in client.backend.datasets.search_datasets().items}
    assert set(datasets) == {"golden", "empty"}
    golden = datasets["golden"]
    assert golden.dataset_id != source_id
    assert golden.tags["owner"] == "ana"
    assert golden.tags[SOURCE_DATASET] == source_id
    experiment = client.get_experiment_by_name("qa")
    assert experiment is not None
    assert list(golden.experiment_ids) == [experiment.experiment_id]
    records = _records(client, golden.dataset_id)
    assert len(records) == RECORDS
    first, last = records["q0"], records[f"q{RECORDS - 1}"]
    assert first.outputs == {"text": "first"}
    assert dict(last.expectations or {}) == {"answer": f"a{RECORDS - 1}"}
    assert dict(last.tags or {}) == {"split": "test"}
    assert (last.source or {})["source_type"] == "HUMAN"


def test_import_from_a_server_and_again(tmp_path: Path, serve_settings: Any) -> None:
    (tmp_path / "server").mkdir()
    server = Settings.for_home(tmp_path / "server")
    target = tmp_path / "target"
    with serve_settings(server) as url:
        with HeronClient(url) as client:
            source_id = _fill(client)
        first = heron("import", url, *store_flags(target))
        assert first.exit_code == 0, first.output
        assert "datasets: 2 imported, 0 already in this store" in first.output
        with HeronClient(str(target)) as copy:
            _check(copy, source_id)
            golden = next(
                d for d in copy.backend.datasets.search_datasets().items if d.name == "golden"
            )
            # As if the first import had stopped half way through this dataset's records.
            copy.backend.datasets.delete_dataset_tag(golden.dataset_id, COMPLETE)
            gone = list(_records(copy, golden.dataset_id).values())[:700]
            copy.backend.datasets.delete_records(
                golden.dataset_id, [r.dataset_record_id for r in gone]
            )
        second = heron("import", url, *store_flags(target))
        assert second.exit_code == 0, second.output
        assert "datasets: 1 imported, 1 already in this store" in second.output
        third = heron("import", url, *store_flags(target))
        assert "datasets: 0 imported, 2 already in this store" in third.output
    with HeronClient(str(target)) as copy:
        _check(copy, source_id)


def test_export_to_a_server(tmp_path: Path, serve_settings: Any) -> None:
    source = tmp_path / "source"
    with HeronClient(str(source)) as client:
        source_id = _fill(client)
    (tmp_path / "server").mkdir()
    with serve_settings(Settings.for_home(tmp_path / "server")) as url:
        done = heron("export", url, *store_flags(source))
        assert done.exit_code == 0, done.output
        assert "datasets: 2 exported" in done.output
        with HeronClient(url) as copy:
            _check(copy, source_id)
