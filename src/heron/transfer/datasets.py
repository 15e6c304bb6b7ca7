"""Evaluation datasets: name, tags, linked experiments (mapped to the target's) and every
record (inputs, outputs, expectations, tags, source). A copy carries `heron.source.dataset_id`;
records are upserted (merged by their inputs), so a copy cut short is finished by the next
run without a duplicate record."""

from __future__ import annotations

from typing import Any

from heron.client.backend import DatasetApi
from heron.entities.evaluation import DatasetRecord, EvaluationDataset
from heron.transfer.base import COMPLETE, Transfer, every

SOURCE_DATASET = "heron.source.dataset_id"
_RECORDS_PAGE = 1000  # MLflow's page of records
_RECORDS_PER_CALL = 1000


class Datasets:
    name = "datasets"

    def copy(self, transfer: Transfer) -> None:
        source, target = transfer.source.backend.datasets, transfer.target.backend.datasets
        found = every(source.search_datasets, max_results=1000)
        there = {
            dataset.tags.get(SOURCE_DATASET): dataset
            for dataset in every(target.search_datasets, max_results=1000)
        }
        linked = _linked(transfer)
        transfer.progress.start(self.name, len(found))
        for dataset in sorted(found, key=lambda d: (d.created_time, d.dataset_id)):
            copy = there.get(dataset.dataset_id)
            if copy is not None and copy.tags.get(COMPLETE) == "true":
                transfer.count(self.name, copied=False)
                continue
            if copy is None:
                copy = target.create_dataset(
                    dataset.name,
                    experiment_ids=linked.get(dataset.dataset_id, []),
                    tags={**_tags(dataset), SOURCE_DATASET: dataset.dataset_id},
                )
            _copy_records(source, target, dataset.dataset_id, copy.dataset_id)
            target.set_dataset_tags(copy.dataset_id, {COMPLETE: "true"})
            transfer.count(self.name, copied=True)


def _tags(dataset: EvaluationDataset) -> dict[str, str]:
    """The dataset's tags but the mark of a finished copy (a copy of a copy is not one yet)."""
    return {key: value for key, value in dataset.tags.items() if key != COMPLETE}


def _linked(transfer: Transfer) -> dict[str, list[str]]:
    """Source dataset id -> the target's experiments for the copied ones it is linked to (an
    MLflow server leaves `experiment_ids` out of its search answers: asked per experiment)."""
    linked: dict[str, list[str]] = {}
    search = transfer.source.backend.datasets.search_datasets
    for source_id, target_id in transfer.experiments.items():
        for dataset in every(search, experiment_ids=[source_id], max_results=1000):
            linked.setdefault(dataset.dataset_id, []).append(target_id)
    return linked


def _copy_records(source: DatasetApi, target: DatasetApi, source_id: str, target_id: str) -> None:
    batch: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = source.get_records(source_id, max_results=_RECORDS_PAGE, page_token=token)
        batch.extend(_record(r) for r in page.items)
        if len(batch) >= _RECORDS_PER_CALL:
            target.upsert_records(target_id, batch)
            batch = []
        token = page.next_page_token
        if not token:
            break
    if batch:
        target.upsert_records(target_id, batch)


def _record(record: DatasetRecord) -> dict[str, Any]:
    fields = {
        "inputs": dict(record.inputs),
        "outputs": record.outputs,
        "expectations": record.expectations,
        "tags": record.tags,
        "source": record.source,
    }
    return {key: value for key, value in fields.items() if value is not None}
