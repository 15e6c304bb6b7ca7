"""DatasetService: the rules of evaluation datasets (names, tags, experiments, records and
their limits) and who may touch them, for the server's routes and the SDK in process."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from heron.clock import now_ms
from heron.entities import Page
from heron.entities.evaluation import (
    DatasetRecord,
    DatasetVersion,
    EvaluationDataset,
    dataset_digest,
)
from heron.errors import InvalidParameter
from heron.search.datasets import parse_dataset_filter, parse_dataset_order_by
from heron.services.access import Authorizer, authorize, current_identity, listing
from heron.services.changes import changed, changed_fields, noting
from heron.store import ids
from heron.store.evaluation import DatasetStore
from heron.store.experiments import ExperimentStore

MAX_NAME = 500
MAX_DATASET_ID = 36  # evaluation_datasets.dataset_id ("d-" and 32 hex digits)
MAX_MODEL = 500  # judge_cache.model
MAX_RECORDS_PER_CALL = 10_000
DEFAULT_RECORDS_PAGE = 1000  # MLflow's default page of records
MAX_RECORDS_PAGE = 10_000  # Heron's SDK reads a 10,000-record dataset in one request
MAX_SEARCH = 1000
MAX_VERSION = 2**31 - 1  # evaluation_datasets.version and the versions' columns are 32-bit
SOURCE_TYPES = ("TRACE", "HUMAN", "DOCUMENT", "CODE")


class DatasetService:
    def __init__(
        self, store: DatasetStore, experiments: ExperimentStore, authorizer: Authorizer
    ) -> None:
        self._store = store
        self._experiments = experiments
        self._authorizer = authorizer

    def create_dataset(
        self,
        name: str,
        *,
        experiment_ids: Sequence[str] = (),
        tags: Mapping[str, Any] | None = None,
    ) -> EvaluationDataset:
        """Raises InvalidParameter (a bad name or tags), NotFound (an experiment)."""
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise InvalidParameter(f"A dataset needs a name of 1 to {MAX_NAME} characters")
        for experiment_id in experiment_ids:
            self._experiment(experiment_id, "update")
        identity = authorize(self._authorizer, "create", "dataset", name)
        now = now_ms()
        dataset = EvaluationDataset(
            dataset_id="d-" + uuid.uuid4().hex, name=name,
            digest=dataset_digest(name, now),
            created_time=now, last_update_time=now, tags=_tags(tags),
            created_by=identity.name, last_updated_by=identity.name,
            experiment_ids=[str(e) for e in experiment_ids], profile='{"num_records": 0}',
        )  # fmt: skip
        made = self._store.create_dataset(dataset)
        changed("dataset", made.dataset_id, after=_audited(made))
        return made

    def _experiment(self, experiment_id: str, action: str) -> None:
        text = ids.experiment_id(experiment_id)  # raises for ids no row can have
        authorize(self._authorizer, "update" if action == "update" else "read", "experiment", text)
        self._experiments.get_experiment(text)  # raises NotFound

    def get_dataset(self, dataset_id: str) -> EvaluationDataset:
        authorize(self._authorizer, "read", "dataset", _id(dataset_id))
        return self._store.get_dataset(dataset_id)

    def search_datasets(
        self,
        experiment_ids: Sequence[str] = (),
        *,
        filter_string: str | None = None,
        max_results: int = MAX_SEARCH,
        order_by: Sequence[str] | None = None,
        page_token: str | None = None,
    ) -> Page[EvaluationDataset]:
        if not 1 <= max_results <= MAX_SEARCH:
            raise InvalidParameter(f"max_results must be between 1 and {MAX_SEARCH}")
        for experiment_id in experiment_ids:
            self._experiment(experiment_id, "read")
        filters = parse_dataset_filter(filter_string)
        keys = parse_dataset_order_by(list(order_by or []))
        visible = listing(self._authorizer, "dataset")
        return self._store.search_datasets(
            [str(e) for e in experiment_ids], filters, keys, max_results, page_token,
            visible=visible, creator=current_identity().name,
        )  # fmt: skip

    def delete_dataset(self, dataset_id: str) -> None:
        authorize(self._authorizer, "delete", "dataset", _id(dataset_id))
        before = self._store.get_dataset(dataset_id) if noting() else None
        self._store.delete_dataset(dataset_id)
        if before is not None:
            changed("dataset", dataset_id, before=_audited(before), after=None)

    def set_dataset_tags(self, dataset_id: str, tags: Mapping[str, Any]) -> EvaluationDataset:
        """Merges `tags` into the dataset's (a None value removes the tag)."""
        identity = authorize(self._authorizer, "update", "dataset", _id(dataset_id))
        before = self._store.get_dataset(dataset_id).tags
        merged = {**before}
        for key, value in (tags or {}).items():
            if value is None:
                merged.pop(str(key), None)
        merged.update(_tags({k: v for k, v in (tags or {}).items() if v is not None}))
        done = self._store.update_dataset(dataset_id, tags=merged, updated_by=identity.name,
                                          now=now_ms())  # fmt: skip
        changed_fields("dataset", dataset_id, _tag_fields(before), _tag_fields(merged))
        return done

    def delete_dataset_tag(self, dataset_id: str, key: str) -> None:
        self.set_dataset_tags(dataset_id, {key: None})

    def link_experiments(
        self, dataset_id: str, add: Sequence[str] = (), remove: Sequence[str] = ()
    ) -> EvaluationDataset:
        identity = authorize(self._authorizer, "update", "dataset", _id(dataset_id))
        for experiment_id in [*add, *remove]:
            self._experiment(experiment_id, "update")
        before = self._store.get_dataset(dataset_id).experiment_ids if noting() else []
        done = self._store.update_dataset(
            dataset_id, add_experiments=[str(e) for e in add],
            remove_experiments=[str(e) for e in remove], updated_by=identity.name, now=now_ms(),
        )  # fmt: skip
        changed_fields("dataset", dataset_id, {"experiment_ids": sorted(before)},
                       {"experiment_ids": sorted(done.experiment_ids)})  # fmt: skip
        return done

    def upsert_records(
        self, dataset_id: str, items: Sequence[Mapping[str, Any]]
    ) -> tuple[int, int]:
        """Adds records, merging each into the one with the same inputs; (inserted, updated).

        Raises:
            InvalidParameter: a record without a dict of inputs, or with expectations, tags or
                a source that are not dicts (the message names the record).
        """
        identity = authorize(self._authorizer, "update", "dataset", _id(dataset_id))
        if not isinstance(items, list | tuple):
            raise InvalidParameter("records must be a list of objects")
        if len(items) > MAX_RECORDS_PER_CALL:
            raise InvalidParameter(f"At most {MAX_RECORDS_PER_CALL} records in one call")
        checked = [_record(i, item) for i, item in enumerate(items)]
        return self._store.upsert_records(dataset_id, checked, user=identity.name, now=now_ms())

    def get_records(
        self,
        dataset_id: str,
        *,
        max_results: int = DEFAULT_RECORDS_PAGE,
        page_token: str | None = None,
        version: int | None = None,
    ) -> Page[DatasetRecord]:
        """The present records, or those of `version` (raises NotFound for a version the
        dataset never had)."""
        authorize(self._authorizer, "read", "dataset", _id(dataset_id))
        if not 1 <= max_results <= MAX_RECORDS_PAGE:
            raise InvalidParameter(f"max_results must be between 1 and {MAX_RECORDS_PAGE}")
        if version is not None:
            _version(version)
        return self._store.get_records(dataset_id, max_results, page_token, version=version)

    def get_version_records(
        self,
        dataset_id: str,
        version: int,
        *,
        max_results: int = DEFAULT_RECORDS_PAGE,
        page_token: str | None = None,
    ) -> Page[DatasetRecord]:
        """The records the dataset had at `version`."""
        return self.get_records(
            dataset_id, max_results=max_results, page_token=page_token, version=version
        )

    def delete_records(self, dataset_id: str, record_ids: Sequence[str]) -> int:
        """Deleting records that were there makes a new version of the dataset."""
        identity = authorize(self._authorizer, "update", "dataset", _id(dataset_id))
        return self._store.delete_records(
            dataset_id, [str(r) for r in record_ids], user=identity.name, now=now_ms()
        )

    def list_versions(
        self, dataset_id: str, *, max_results: int = MAX_SEARCH, page_token: str | None = None
    ) -> Page[DatasetVersion]:
        """The versions of the dataset's records, newest first."""
        authorize(self._authorizer, "read", "dataset", _id(dataset_id))
        if not 1 <= max_results <= MAX_SEARCH:
            raise InvalidParameter(f"max_results must be between 1 and {MAX_SEARCH}")
        return self._store.list_versions(dataset_id, max_results, page_token)

    def get_version(self, dataset_id: str, version: int) -> DatasetVersion:
        """Raises NotFound for a version the dataset never had."""
        authorize(self._authorizer, "read", "dataset", _id(dataset_id))
        return self._store.get_version(dataset_id, _version(version))


def _audited(dataset: EvaluationDataset) -> dict[str, Any]:
    """What the audit log keeps of a dataset made or deleted (not its records)."""
    return {"name": dataset.name, "experiment_ids": sorted(dataset.experiment_ids),
            **_tag_fields(dataset.tags)}  # fmt: skip


def _tag_fields(tags: Mapping[str, str]) -> dict[str, str]:
    return {f"tags.{k}": v for k, v in tags.items()}


def _id(dataset_id: str) -> str:
    if not isinstance(dataset_id, str) or not dataset_id or len(dataset_id) > MAX_DATASET_ID:
        raise InvalidParameter(f"Invalid dataset id {dataset_id!r}")
    return dataset_id


def _version(version: Any) -> int:
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise InvalidParameter(f"A dataset version is a number from 1, not {version!r}")
    return version


def _tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    if tags is None:
        return {}
    if not isinstance(tags, Mapping):
        raise InvalidParameter("Dataset tags must be an object of names and values")
    return {str(k): v if isinstance(v, str) else str(v) for k, v in tags.items()}


def _record(index: int, item: Any) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        raise InvalidParameter(f"Record {index} is not an object")
    inputs = item.get("inputs")
    if not isinstance(inputs, Mapping) or not inputs:
        raise InvalidParameter(
            f'Record {index} needs \'inputs\': a non-empty object such as {{"question": "..."}}'
        )
    for name in ("expectations", "tags", "source"):
        value = item.get(name)
        if value is not None and not isinstance(value, Mapping):
            raise InvalidParameter(f"Record {index}: {name!r} must be an object")
    source = item.get("source")
    if source is not None and source.get("source_type", "CODE") not in SOURCE_TYPES:
        raise InvalidParameter(f"Record {index}: source_type is one of {', '.join(SOURCE_TYPES)}")
    return {k: item.get(k) for k in ("inputs", "outputs", "expectations", "tags", "source")}
