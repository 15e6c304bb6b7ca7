"""Evaluation datasets in the SDK: create one in an experiment, add records from code, files,
DataFrames or traces (their expectations and feedback become the record's expectations),
read them back, search, tag, delete; pass one to `heron.genai.evaluate`.

    ds = heron.genai.datasets.create_dataset("questions")
    ds.merge_records([{"inputs": {"q": "2+2?"}, "expectations": {"expected_response": "4"}}])
    heron.genai.evaluate(ds, predict_fn=app, scorers=[...])          # its newest version
    ds.versions()                                                    # every change of records
    heron.genai.evaluate(ds.at_version(1), predict_fn=app, scorers=[...])
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from heron.client.fluent.state import active_experiment_id, tracking_client
from heron.entities import DatasetInput, Page, reserved
from heron.entities.assessment import AssessmentKind
from heron.entities.dataset import Dataset, InputTag
from heron.entities.evaluation import DatasetRecord, DatasetVersion
from heron.entities.evaluation import EvaluationDataset as DatasetEntity
from heron.entities.trace import Trace
from heron.errors import InvalidParameter
from heron.services.datasets import MAX_RECORDS_PAGE, MAX_RECORDS_PER_CALL

_UPSERT_BATCH = MAX_RECORDS_PER_CALL  # one call, one version, for up to 10,000 records
SOURCE_TYPE = "heron_evaluation_dataset"


def _api() -> Any:
    return tracking_client().backend.datasets


class EvaluationDataset:
    """A dataset stored on the tracking server (or the local database): its present records,
    or, pinned to a version (`at_version`), the records it had then."""

    def __init__(self, entity: DatasetEntity, pinned: DatasetVersion | None = None) -> None:
        self._entity = entity
        self._pinned = pinned

    @property
    def dataset_id(self) -> str:
        return self._entity.dataset_id

    @property
    def name(self) -> str:
        return self._entity.name

    @property
    def digest(self) -> str:
        """The digest of the pinned version, else the dataset's present one."""
        return self._pinned.digest if self._pinned is not None else self._entity.digest

    @property
    def version(self) -> int:
        """The pinned version, else the newest (0 while the dataset has no records)."""
        if self._pinned is not None:
            return self._pinned.version
        newest = self.versions(max_results=1)
        return newest[0].version if newest else 0

    def versions(self, max_results: int = 1000) -> list[DatasetVersion]:
        """The versions of the records, newest first: each change of records (added,
        updated or deleted) made one."""
        out: list[DatasetVersion] = []
        token: str | None = None
        while len(out) < max_results:
            page: Page[DatasetVersion] = _api().list_versions(
                self.dataset_id, max_results=min(1000, max_results - len(out)), page_token=token
            )
            out += page.items
            token = page.next_page_token
            if not token:
                break
        return out

    def at_version(self, version: int) -> EvaluationDataset:
        """The dataset pinned to `version`: its records and digest are that version's, and an
        evaluation of it says so. Raises NotFound for a version the dataset never had."""
        return EvaluationDataset(self._entity, _api().get_version(self.dataset_id, version))

    def pinned(self) -> EvaluationDataset:
        """Pinned to the version it is at now (the newest unless pinned already): what
        `evaluate` reads, so the records scored and the version logged agree."""
        if self._pinned is not None:
            return self
        newest = self.versions(max_results=1)
        return EvaluationDataset(self._entity, newest[0]) if newest else self

    @property
    def tags(self) -> Mapping[str, str]:
        return self._entity.tags

    @property
    def experiment_ids(self) -> Sequence[str]:
        return self._entity.experiment_ids

    def __repr__(self) -> str:
        return f"EvaluationDataset(dataset_id={self.dataset_id!r}, name={self.name!r})"

    def merge_records(self, records: Any) -> EvaluationDataset:
        """Adds records: a list of dicts (`inputs`, `expectations`, `tags`), a DataFrame with
        those columns, a list of traces, or a path to a .json, .jsonl or .csv file. A record
        whose inputs are already in the dataset merges into that one. Returns self, updated."""
        if self._pinned is not None:
            raise InvalidParameter(
                f"Version {self._pinned.version} of dataset {self.name!r} is fixed: add records "
                "to the dataset itself (get_dataset), which makes a new version"
            )
        items = records_of(records)
        for start in range(0, len(items), _UPSERT_BATCH):
            _api().upsert_records(self.dataset_id, items[start : start + _UPSERT_BATCH])
        self._entity = _api().get_dataset(self.dataset_id)
        return self

    def records(self) -> list[DatasetRecord]:
        """The present records, or the pinned version's."""
        out: list[DatasetRecord] = []
        token: str | None = None
        while True:
            page: Page[DatasetRecord] = (
                _api().get_records(self.dataset_id, max_results=MAX_RECORDS_PAGE, page_token=token)
                if self._pinned is None
                else _api().get_version_records(
                    self.dataset_id,
                    self._pinned.version,
                    max_results=MAX_RECORDS_PAGE,
                    page_token=token,
                )
            )
            out += page.items
            token = page.next_page_token
            if not token:
                return out

    def iter_records(self) -> Iterator[Mapping[str, Any]]:
        """The records as `evaluate` reads them (inputs, expectations, tags, record id)."""
        for r in self.records():
            yield {
                "inputs": r.inputs,
                "expectations": r.expectations or {},
                "tags": {k: str(v) for k, v in (r.tags or {}).items()},
                "dataset_record_id": r.dataset_record_id,
            }

    def to_df(self) -> Any:
        import pandas as pd

        columns = [
            "dataset_record_id",
            "inputs",
            "expectations",
            "tags",
            "source",
            "created_time",
            "last_update_time",
        ]
        rows = [{c: getattr(r, c) for c in columns} for r in self.records()]
        return pd.DataFrame(rows, columns=columns)

    def delete_records(self, record_ids: Sequence[str]) -> int:
        """Deletes records (a new version when any was there); returns how many."""
        count = int(_api().delete_records(self.dataset_id, list(record_ids)))
        self._entity = _api().get_dataset(self.dataset_id)
        return count

    def set_tags(self, tags: Mapping[str, Any]) -> None:
        self._entity = _api().set_dataset_tags(self.dataset_id, tags)

    def to_dataset_input(self) -> DatasetInput:
        """The dataset as a run's input: its name and the digest of this version (the
        version's number is in the source, beside the dataset's id)."""
        where: dict[str, Any] = {"dataset_id": self.dataset_id}
        if self._pinned is not None:
            where["version"] = self._pinned.version
        source = json.dumps(where)
        dataset = Dataset(
            name=self.name, digest=self.digest, source_type=SOURCE_TYPE, source=source
        )
        return DatasetInput(
            dataset=dataset, tags=[InputTag(key=reserved.DATASET_CONTEXT, value="evaluation")]
        )


def create_dataset(
    name: str,
    experiment_id: str | Sequence[str] | None = None,
    tags: Mapping[str, Any] | None = None,
) -> EvaluationDataset:
    """A new, empty dataset linked to `experiment_id` (default: the active experiment)."""
    ids = [experiment_id] if isinstance(experiment_id, str) else list(experiment_id or [])
    entity = _api().create_dataset(name, experiment_ids=ids or [active_experiment_id()], tags=tags)
    return EvaluationDataset(entity)


def get_dataset(dataset_id: str, version: int | None = None) -> EvaluationDataset:
    """The dataset, or pinned to `version` when given. Raises NotFound."""
    dataset = EvaluationDataset(_api().get_dataset(dataset_id))
    return dataset if version is None else dataset.at_version(version)


def search_datasets(
    experiment_ids: Sequence[str] | None = None,
    filter_string: str | None = None,
    max_results: int = 1000,
    order_by: Sequence[str] | None = None,
) -> list[EvaluationDataset]:
    """Datasets of the experiments (all when None) matching the filter (`name = 'x'`,
    `name LIKE 'qa%'`, `tags.team = 'search'`), newest first."""
    page = _api().search_datasets(
        list(experiment_ids or []),
        filter_string=filter_string,
        max_results=max_results,
        order_by=order_by,
    )
    return [EvaluationDataset(d) for d in page]


def delete_dataset(dataset_id: str) -> None:
    _api().delete_dataset(dataset_id)


def records_of(records: Any) -> list[dict[str, Any]]:
    """Records (dicts with inputs, expectations, tags, source) from what the caller has."""
    if isinstance(records, str | Path):
        return _from_file(Path(records))
    if type(records).__name__ == "DataFrame":
        records = records.to_dict(orient="records")
    if isinstance(records, Trace):
        records = [records]
    if not isinstance(records, Sequence):
        raise InvalidParameter(
            "Records are a list of dicts, a DataFrame, a list of traces or a file path"
        )
    return [
        _from_trace(r) if isinstance(r, Trace) else _from_dict(i, r) for i, r in enumerate(records)
    ]


def _from_dict(index: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping) or not isinstance(item.get("inputs"), Mapping):
        raise InvalidParameter(f"Record {index} needs 'inputs': a dict of names and values")
    return {
        k: item[k]
        for k in ("inputs", "outputs", "expectations", "tags", "source")
        if k in item and item[k] is not None and item[k] == item[k]
    }


def _from_trace(trace: Trace) -> dict[str, Any]:
    """The trace's request as inputs; its valid expectations and feedback as expectations."""
    root = trace.root_span
    inputs = root.inputs if root is not None else None
    if not isinstance(inputs, Mapping):
        inputs = {"request": inputs}
    expectations = {
        a.name: a.value
        for a in trace.info.assessments
        if a.valid
        and a.error is None
        and a.value is not None
        and a.kind in (AssessmentKind.EXPECTATION, AssessmentKind.FEEDBACK)
    }
    record: dict[str, Any] = {
        "inputs": dict(inputs),
        "source": {"source_type": "TRACE", "source_data": {"trace_id": trace.info.trace_id}},
    }
    if expectations:
        record["expectations"] = expectations
    return record


def _from_file(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise InvalidParameter(f"No such file: {path}")
    if path.suffix == ".jsonl":
        lines = path.read_text().splitlines()
        return [_from_dict(i, orjson.loads(x)) for i, x in enumerate(lines) if x.strip()]
    if path.suffix == ".json":
        data = orjson.loads(path.read_bytes())
        return [_from_dict(i, r) for i, r in enumerate(data if isinstance(data, list) else [data])]
    if path.suffix == ".csv":
        with path.open(newline="") as f:
            rows = list(csv.DictReader(f))
        return [_from_columns(row) for row in rows]
    raise InvalidParameter(f"Read records from .json, .jsonl or .csv files, not {path.name}")


def _from_columns(row: Mapping[str, str]) -> dict[str, Any]:
    """A CSV row: `expectations.<name>` and `tags.<name>` columns go there, the rest are
    inputs."""
    record: dict[str, Any] = {"inputs": {}}
    for column, value in row.items():
        section, _, name = column.partition(".")
        if section in ("expectations", "tags") and name:
            record.setdefault(section, {})[name] = value
        else:
            record["inputs"][column] = value
    return record
